import { CopybookError } from './copybook-errors';
import type { CodePage } from './code-page';
import type { FieldCodec } from './field-codec';
import { decodeText, encodeTextInto } from './text-transcoder';

export interface TextSpec {
  readonly length: number;
  /** PIC A: only letters and spaces may be written. */
  readonly alphabetic: boolean;
  /** JUSTIFIED RIGHT: padding goes on the left. */
  readonly justifiedRight: boolean;
  /** 'none' keeps every byte; 'pad' drops the space padding (right, or left when justified). */
  readonly trim: 'pad' | 'none';
}

// Alphanumeric, alphabetic and edited (display string) fields. Decoding drops only the space
// padding, so encoding the result (padding restored) gives back the same bytes.

export function textCodec(spec: TextSpec, page: CodePage): FieldCodec {
  const size = spec.length;
  const space = page.space;
  const decode = (buf: Uint8Array, pos: number): string => {
    let start = pos;
    let end = pos + size;
    if (spec.trim === 'pad') {
      if (spec.justifiedRight) while (start < end && buf[start] === space) start++;
      else while (end > start && buf[end - 1] === space) end--;
    }
    return decodeText(page, buf, start, end);
  };
  const encode = (value: unknown, buf: Uint8Array, pos: number): void => {
    if (typeof value !== 'string') {
      throw new CopybookError('VALUE_TYPE', `expected a string, found ${value === null ? 'null' : typeof value}`);
    }
    if (value.length > size) {
      throw new CopybookError('TEXT_TOO_LONG', `text of ${value.length} characters does not fit ${size} bytes`);
    }
    if (spec.alphabetic && !/^[A-Za-z ]*$/.test(value)) {
      throw new CopybookError('TEXT_NOT_ALPHABETIC', 'a PIC A field takes only letters and spaces');
    }
    const padding = size - value.length;
    const at = spec.justifiedRight ? pos + padding : pos;
    encodeTextInto(page, value, buf, at);
    const padFrom = spec.justifiedRight ? pos : pos + value.length;
    for (let i = 0; i < padding; i++) buf[padFrom + i] = space;
  };
  return Object.freeze({ size, decode, encode });
}
