import { activeSecrets } from '../webhooks/signature.ts';

/** A tenant tool's signing secrets as stored, with a rotation's previous one. */
export interface ToolSecrets {
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
}

/**
 * The secrets a call is signed with: the previous one as well until it expires, so a workflow not
 * yet updated after a rotation keeps verifying.
 */
export function toolSigningSecrets(tool: ToolSecrets, nowMs = Date.now()): string[] {
  return activeSecrets(
    {
      secret: tool.secret,
      previousSecret: tool.previous_secret,
      previousExpiresAt: tool.previous_secret_expires_at,
    },
    Math.floor(nowMs / 1000),
  );
}
