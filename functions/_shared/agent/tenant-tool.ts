/**
 * One of the tenant's tools as the reply path holds it. Kept apart from tools.ts so the context
 * read, which brings the tools along, and the code that calls them need not import each other.
 */
export interface TenantTool {
  id: string;
  name: string;
  description: string;
  parameters: Record<string, unknown>;
  webhook_url: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
  timeout_ms: number;
}
