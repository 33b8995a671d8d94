/** What every page gets from the router. */
export interface PageProps {
  tenantId: string;
  params: string[];
}
