import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { PROVIDER_IDS, type ProviderId } from '../providers/types.js';
import { caoHome, packageRoot } from '../util/paths.js';
import { CaoError } from '../util/errors.js';

export const PROFILE_NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;

const FrontMatter = z
  .object({
    name: z.string().regex(PROFILE_NAME_RE, 'letters, digits, _ and - only (1–64)').optional(),
    description: z.string().default(''),
    provider: z.enum(PROVIDER_IDS).optional(),
    model: z.string().trim().min(1).optional(),
    /** Run each worker of this profile in a git worktree of its own: true, or the branch name to create. */
    worktree: z.union([z.boolean(), z.string().trim().min(1)]).optional(),
    /** Started, never-used spare workers kept ready after the first use (0 = none; default CAO_WARM_POOL, else 1). */
    pool: z.number().int().min(0).max(8).optional(),
    /** Many hosts: placement puts its workers on a live host with one of these labels first (`--labels`, CAO_HOST_LABELS). */
    host_labels: z
      .array(z.string().regex(/^[A-Za-z0-9._-]{1,40}$/, "1-40 of letters, digits, '.', '_' or '-'"))
      .max(16)
      .optional(),
  })
  .strict();

export interface AgentProfile {
  name: string;
  description: string;
  provider?: ProviderId;
  model?: string;
  worktree?: boolean | string;
  pool?: number;
  hostLabels?: string[];
  /** The Markdown body: the agent's system prompt. */
  systemPrompt: string;
  /** The file it came from. */
  file: string;
}

/** Directories searched for `<name>.md`, first hit wins. */
export function profileDirs(workingDirectory: string): string[] {
  return [join(caoHome(), 'profiles'), join(resolve(workingDirectory), '.cao', 'profiles'), join(packageRoot(), 'profiles')];
}

/** Parses one profile file; errors name the file and the field. */
export function parseProfile(file: string, text: string = readFileSync(file, 'utf8')): AgentProfile {
  const m = /^\uFEFF?---\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)([\s\S]*)$/.exec(text);
  if (!m) throw new CaoError('bad_profile', `${file}: a profile starts with YAML front matter between two "---" lines`);
  let data: unknown;
  try {
    data = parseYaml(m[1]) ?? {};
  } catch (e) {
    throw new CaoError('bad_profile', `${file}: front matter is not valid YAML: ${(e as Error).message}`);
  }
  const parsed = FrontMatter.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : issue.path.join('.') || '(front matter)';
    const what =
      issue.code === 'unrecognized_keys'
        ? `unknown field "${field}" (known: name, description, provider, model, worktree, pool, host_labels)`
        : `field "${field}": ${issue.message}`;
    throw new CaoError('bad_profile', `${file}: ${what}`);
  }
  const base = file.replace(/^.*[\\/]/, '').replace(/\.md$/i, '');
  return {
    name: parsed.data.name ?? base,
    description: parsed.data.description,
    provider: parsed.data.provider,
    model: parsed.data.model,
    worktree: parsed.data.worktree,
    pool: parsed.data.pool,
    hostLabels: parsed.data.host_labels,
    systemPrompt: m[2].trim(),
    file,
  };
}

/** Finds and parses the profile `name`, searching the profile directories in order. */
export function loadProfile(name: string, workingDirectory: string): AgentProfile {
  if (!PROFILE_NAME_RE.test(name)) throw new CaoError('bad_profile', `invalid profile name "${name}": letters, digits, _ and - only`);
  for (const dir of profileDirs(workingDirectory)) {
    const file = join(dir, `${name}.md`);
    if (existsSync(file)) return parseProfile(file);
  }
  const known = listProfiles(workingDirectory).map((p) => p.name);
  throw new CaoError('bad_profile', `unknown agent profile "${name}" (available: ${known.join(', ') || 'none'})`);
}

export interface ProfileSummary {
  name: string;
  description: string;
  provider?: ProviderId;
  file: string;
  error?: string;
}

/** Every profile visible from `workingDirectory` (earlier directories shadow later ones). */
export function listProfiles(workingDirectory: string): ProfileSummary[] {
  const seen = new Map<string, ProfileSummary>();
  for (const dir of profileDirs(workingDirectory)) {
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).sort()) {
      if (!f.endsWith('.md')) continue;
      const name = f.slice(0, -3);
      if (seen.has(name) || !PROFILE_NAME_RE.test(name)) continue;
      const file = join(dir, f);
      try {
        const p = parseProfile(file);
        seen.set(name, { name, description: p.description, provider: p.provider, file });
      } catch (e) {
        seen.set(name, { name, description: '', file, error: (e as Error).message });
      }
    }
  }
  return [...seen.values()];
}

export const BUILTIN_DEFAULT_PROVIDER: ProviderId = 'claude_code';

/** `provider` on the call beats the profile, which beats `CAO_PROVIDER`, which beats the built-in default. */
export function resolveProviderId(callProvider: string | undefined, profile: AgentProfile): ProviderId {
  const pick = callProvider || profile.provider || process.env.CAO_PROVIDER || BUILTIN_DEFAULT_PROVIDER;
  if (!(PROVIDER_IDS as readonly string[]).includes(pick)) {
    const from = callProvider ? 'the "provider" argument' : profile.provider ? profile.file : 'CAO_PROVIDER';
    throw new CaoError('bad_profile', `unknown provider "${pick}" (from ${from}); known: ${PROVIDER_IDS.join(', ')}`);
  }
  return pick as ProviderId;
}
