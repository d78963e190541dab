// A small JSON parser that keeps number tokens as text (JSON.parse would round 19-38 digit values),
// for reading Cobrix's expected files. Numbers come back as { num: '<token>' }.

export type Json = null | boolean | string | { readonly num: string } | Json[] | { [key: string]: Json };

export function isNum(v: Json | undefined): v is { readonly num: string } {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    typeof (v as { num?: unknown }).num === 'string' &&
    Object.keys(v).length === 1
  );
}

export function parseLosslessJson(text: string): Json {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && /\s/.test(text[i] ?? '')) i++;
  };
  const value = (): Json => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const o: { [key: string]: Json } = {};
      ws();
      if (text[i] === '}') {
        i++;
        return o;
      }
      for (;;) {
        ws();
        const k = str();
        ws();
        if (text[i] !== ':') throw new Error(`expected : at ${i}`);
        i++;
        o[k] = value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return o;
        }
        throw new Error(`expected , or } at ${i}`);
      }
    }
    if (c === '[') {
      i++;
      const a: Json[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return a;
      }
      for (;;) {
        a.push(value());
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return a;
        }
        throw new Error(`expected , or ] at ${i}`);
      }
    }
    if (c === '"') return str();
    if (text.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (text.startsWith('null', i)) {
      i += 4;
      return null;
    }
    const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (m === null) throw new Error(`unexpected ${c ?? 'end'} at ${i}`);
    i += m[0].length;
    return { num: m[0] };
  };
  const str = (): string => {
    if (text[i] !== '"') throw new Error(`expected string at ${i}`);
    let j = i + 1;
    let out = '';
    while (text[j] !== '"') {
      if (j >= text.length) throw new Error('unterminated string');
      if (text[j] === '\\') {
        const e = text[j + 1];
        if (e === 'u') {
          out += String.fromCharCode(parseInt(text.slice(j + 2, j + 6), 16));
          j += 6;
          continue;
        }
        out +=
          ({ n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', '/': '/', '\\': '\\', '"': '"' } as Record<string, string>)[
            e ?? ''
          ] ?? '';
        j += 2;
        continue;
      }
      out += text[j];
      j++;
    }
    i = j + 1;
    return out;
  };
  const v = value();
  ws();
  if (i !== text.length) throw new Error(`trailing text at ${i}`);
  return v;
}

/** Expected-file reader for the three Cobrix formats (jsonl, pretty array, pretty objects). */
export function parseExpected(text: string, format: string): Json[] {
  if (format === 'jsonl') {
    return text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map(parseLosslessJson);
  }
  if (format === 'pretty-json-array') {
    const v = parseLosslessJson(text);
    if (!Array.isArray(v)) throw new Error('expected an array');
    return v;
  }
  const out: Json[] = [];
  let cur: string[] = [];
  for (const line of text.split('\n')) {
    cur.push(line);
    if (line === '}') {
      out.push(parseLosslessJson(cur.join('\n')));
      cur = [];
    }
  }
  return out;
}
