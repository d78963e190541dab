import { HubError } from '../../domain/errors';

// Limits on the shape of a parsed JSON body, walked without recursion so a deep document cannot blow
// the stack. Nothing in the API needs more than two levels or a dozen keys.

export const MAX_JSON_DEPTH = 8;
export const MAX_JSON_KEYS = 64;

export function checkJsonLimits(value: unknown, maxDepth = MAX_JSON_DEPTH, maxKeys = MAX_JSON_KEYS): void {
  const stack: Array<[unknown, number]> = [[value, 0]];
  let keys = 0;
  while (stack.length > 0) {
    const next = stack.pop();
    if (!next) break;
    const [node, depth] = next;
    if (node === null || typeof node !== 'object') continue;
    if (depth >= maxDepth) throw new HubError('json_too_deep', `the body is nested more than ${maxDepth} levels`);
    const children = Array.isArray(node) ? node : Object.values(node as Record<string, unknown>);
    if (!Array.isArray(node)) keys += children.length;
    if (keys > maxKeys || children.length > maxKeys)
      throw new HubError('json_too_many_keys', `the body has more than ${maxKeys} keys or items`);
    for (const child of children) stack.push([child, depth + 1]);
  }
}

// Control characters, path traversal and the usual injection markers. Our fields have strict formats
// anyway; this names the attack in the WAF log instead of a plain format error.
const SUSPICIOUS =
  // eslint-disable-next-line no-control-regex -- control characters are exactly what this rule looks for
  /[\u0000-\u001f\u007f\u202e\u2066-\u2069]|\.\.[/\\]|<\s*script|javascript:|\$\{|\{\{|'\s*(or|and)\s|;\s*(drop|delete|insert|update|select)\s|--\s|\/\*|\bunion\s+select\b/i;

export function findSuspicious(value: unknown): string | null {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node === 'string') {
      if (SUSPICIOUS.test(node)) return node;
    } else if (node !== null && typeof node === 'object') {
      for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
        if (SUSPICIOUS.test(k)) return k;
        stack.push(v);
      }
    }
  }
  return null;
}
