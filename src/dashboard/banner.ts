/** The dashboard's address with its token (what a person opens). */
export function dashboardUrl(hubUrl: string, token: string): string {
  return `${hubUrl}/?token=${encodeURIComponent(token)}`;
}

/**
 * The line a hub prints on stderr when it starts. A stdio hub's stderr usually ends up in the client's log
 * files, so it gets the address without the token (`cao-mcp dashboard` prints the full link).
 */
export function dashboardBanner(mode: string, hubUrl: string, token: string): string {
  if (mode === 'stdio') return `cao-mcp dashboard: ${hubUrl}/  (run \`cao-mcp dashboard\` for the link with its token)\n`;
  return `cao-mcp dashboard: ${dashboardUrl(hubUrl, token)}\n`;
}
