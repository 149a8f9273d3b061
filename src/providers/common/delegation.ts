/**
 * The line every worker whose CLI has its own sub-agent tool gets appended to its system prompt (issue 15): work
 * is delegated through cao-mcp, so that the supervisor sees every worker, its status and its answer.
 */
export function delegationNote(serverName: string, builtIn: string): string {
  return (
    `To delegate work to another agent, use the tools of the "${serverName}" MCP server (handoff, assign, send_message), ` +
    `not ${builtIn}: agents started through ${serverName} are visible to your supervisor and report back through it.`
  );
}

/** The profile text with the delegation note appended (the note alone when the profile is empty). */
export function withDelegationNote(systemPrompt: string, serverName: string, builtIn: string): string {
  return [systemPrompt.trim(), delegationNote(serverName, builtIn)].filter(Boolean).join('\n\n');
}
