/** Command line of the mock agent (a subset of Claude Code's flags, plus --script). */

export interface AgentArgs {
  script?: string;
  mcpConfigs: string[];
  systemPromptFile?: string;
  systemPrompt?: string;
  model?: string;
  name?: string;
  toolTimeoutSec: number;
}

export const USAGE = `usage: mock-agent [--script <file>] [--mcp-config <file|json>]... [--system-prompt-file <file>]
                  [--system-prompt <text>] [--model <m>] [--name <n>] [--tool-timeout-sec <s>]
env: CAO_MOCK_SCRIPT (JSON), CAO_MOCK_SCRIPT_FILE (path), CAO_MOCK_RECORD (event log file),
     CAO_MOCK_MCP_LOG (file for MCP servers' stderr)`;

export class ArgsError extends Error {}

export function parseArgs(argv: string[]): AgentArgs {
  const a: AgentArgs = { mcpConfigs: [], toolTimeoutSec: 600 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new ArgsError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--script':
        a.script = value();
        break;
      case '--mcp-config':
        a.mcpConfigs.push(value());
        break;
      case '--strict-mcp-config':
        break; // only the given configs are used anyway
      case '--system-prompt-file':
      case '--append-system-prompt-file':
        a.systemPromptFile = value();
        break;
      case '--system-prompt':
      case '--append-system-prompt':
        a.systemPrompt = value();
        break;
      case '--model':
        a.model = value();
        break;
      case '--name':
        a.name = value();
        break;
      case '--tool-timeout-sec': {
        const n = Number(value());
        if (!Number.isFinite(n) || n <= 0) throw new ArgsError('--tool-timeout-sec needs a positive number');
        a.toolTimeoutSec = n;
        break;
      }
      default:
        throw new ArgsError(`unknown argument: ${flag}`);
    }
  }
  return a;
}
