export type PictureCategory = 'alphanumeric' | 'alphabetic' | 'numeric' | 'numeric-edited' | 'alphanumeric-edited';

export interface Picture {
  readonly text: string;
  readonly category: PictureCategory;
  /** Character positions in DISPLAY form (S, V and P take none; CR and DB take two). */
  readonly length: number;
  /** Count of 9 positions (numeric pictures). */
  readonly digits: number;
  /** Decimal places of the value: 9s right of V, plus P positions left of the digits; negative for P on the right. */
  readonly scale: number;
  readonly signed: boolean;
}

export type PictureResult =
  { readonly ok: true; readonly picture: Picture } | { readonly ok: false; readonly reason: string };

const editSymbols = new Set(['Z', '*', ',', '.', '+', '-', 'CR', 'DB', 'B', '0', '/', '$']);

function expand(text: string): string[] | string {
  const out: string[] = [];
  const s = text.toUpperCase();
  let i = 0;
  while (i < s.length) {
    let sym = s[i] ?? '';
    if ((sym === 'C' && s[i + 1] === 'R') || (sym === 'D' && s[i + 1] === 'B')) {
      sym += s[i + 1] ?? '';
      i += 2;
    } else {
      i++;
    }
    if (!/^(A|X|9|S|V|P|Z|\*|,|\.|\+|-|CR|DB|B|0|\/|\$)$/.test(sym)) {
      if (sym === 'N' || sym === 'G' || sym === 'U') return `symbol ${sym} (national/DBCS/UTF-8 data) is not supported`;
      if (sym === 'E') return 'external floating point (E) is not supported';
      return `symbol "${sym}" is not a PICTURE symbol`;
    }
    let count = 1;
    if (s[i] === '(') {
      const close = s.indexOf(')', i);
      const n = close < 0 ? '' : s.slice(i + 1, close);
      if (!/^\d+$/.test(n) || Number(n) < 1)
        return `repetition "${s.slice(i, close < 0 ? s.length : close + 1)}" must be (n) with n >= 1`;
      count = Number(n);
      if (count > 100000) return `repetition (${n}) is too large`;
      i = close + 1;
    }
    for (let k = 0; k < count; k++) out.push(sym);
  }
  return out;
}

/** Classifies a PICTURE string (IBM Enterprise COBOL LRM, "PICTURE clause", symbol rules). */
export function parsePicture(text: string): PictureResult {
  const syms = expand(text);
  if (typeof syms === 'string') return { ok: false, reason: syms };
  if (syms.length === 0) return { ok: false, reason: 'empty PICTURE' };
  const has = (x: string): boolean => syms.includes(x);
  const count = (x: string): number => syms.filter((y) => y === x).length;
  const positions = syms
    .filter((x) => x !== 'S' && x !== 'V' && x !== 'P')
    .reduce((n, x) => n + (x.length === 2 ? 2 : 1), 0);
  if (has('X') || has('A')) {
    const edited = syms.some((x) => x === 'B' || x === '0' || x === '/');
    const bad = syms.find((x) => !['A', 'X', '9', 'B', '0', '/'].includes(x));
    if (bad !== undefined) return { ok: false, reason: `symbol ${bad} cannot appear with X or A` };
    const category: PictureCategory = edited
      ? 'alphanumeric-edited'
      : syms.every((x) => x === 'A')
        ? 'alphabetic'
        : 'alphanumeric';
    return { ok: true, picture: { text, category, length: positions, digits: 0, scale: 0, signed: false } };
  }
  if (syms.some((x) => editSymbols.has(x))) {
    // IBM forbids S here; Cobrix accepts S9(3).99 (overpunched sign, explicit point). We keep such a
    // field as its display string, S taking no position, and say so in copybooks/README.md.
    if (syms.lastIndexOf('S') > 0) return { ok: false, reason: 'S must be the leftmost symbol' };
    if (count('V') > 1) return { ok: false, reason: 'V may appear only once' };
    const digits = syms.filter((x) => x === '9' || x === 'Z' || x === '*').length;
    const v = syms.indexOf('V');
    const point = syms.indexOf('.');
    const cut = v >= 0 ? v : point;
    const scale = cut < 0 ? 0 : syms.slice(cut).filter((x) => x === '9' || x === 'Z' || x === '*').length;
    return {
      ok: true,
      picture: { text, category: 'numeric-edited', length: positions, digits, scale, signed: has('S') },
    };
  }
  // Numeric: [S] then 9s with at most one V and a run of Ps at one end of the digits.
  let rest = syms;
  let signed = false;
  if (rest[0] === 'S') {
    signed = true;
    rest = rest.slice(1);
  }
  if (rest.includes('S')) return { ok: false, reason: 'S must be the leftmost symbol' };
  if (count('V') > 1) return { ok: false, reason: 'V may appear only once' };
  const shape = rest
    .filter((x) => x !== 'V')
    .join('')
    .replace(/9+/g, '9')
    .replace(/P+/g, 'P');
  if (!/^(9|P9|9P)$/.test(shape)) {
    return {
      ok: false,
      reason: 'a numeric PICTURE needs 9s, with any P positions in one run at the left or right end',
    };
  }
  const digits = count('9');
  const ps = count('P');
  const v = rest.indexOf('V');
  const firstNine = rest.indexOf('9');
  const firstP = rest.indexOf('P');
  let scale: number;
  if (ps > 0 && firstP < firstNine) {
    if (v > firstP) return { ok: false, reason: 'with P on the left, V may only precede the Ps' };
    scale = ps + digits;
  } else if (ps > 0) {
    if (v >= 0 && v < rest.lastIndexOf('P'))
      return { ok: false, reason: 'with P on the right, V may only follow the Ps' };
    scale = -ps;
  } else {
    scale = v < 0 ? 0 : rest.slice(v).filter((x) => x === '9').length;
  }
  return { ok: true, picture: { text, category: 'numeric', length: positions, digits, scale, signed } };
}
