import { PROVIDER_IDS, type Provider, type ProviderId } from './types.js';
import { mockProvider } from './mock.js';
import { claudeCodeProvider } from './claude-code.js';
import { codexProvider } from './codex.js';
import { kiroCliProvider } from './kiro-cli.js';
import { geminiCliProvider } from './gemini-cli.js';
import { opencodeProvider } from './opencode.js';
import { kimiCliProvider } from './kimi-cli.js';
import { qwenCodeProvider } from './qwen-code.js';
import { copilotCliProvider } from './copilot-cli.js';
import { kiloCodeProvider } from './kilo-code.js';
import { droidProvider } from './droid.js';
import { piProvider } from './pi.js';

const providers = new Map<ProviderId, Provider>();
for (const p of [
  mockProvider,
  claudeCodeProvider,
  codexProvider,
  geminiCliProvider,
  opencodeProvider,
  kiroCliProvider,
  kimiCliProvider,
  qwenCodeProvider,
  copilotCliProvider,
  kiloCodeProvider,
  droidProvider,
  piProvider,
])
  providers.set(p.id, p);

export function getProvider(id: ProviderId): Provider {
  const p = providers.get(id);
  if (!p) throw new Error(`provider "${id}" is not available in this build (known: ${PROVIDER_IDS.join(', ')})`);
  return p;
}
