import { getCodePage, type CodePage } from '../copybooks/code-page';
import { CopybookError } from '../copybooks/copybook-errors';
import { mainframeLayout, type MainframeCopybook } from '../copybooks/mainframe-copybooks';
import { createRecordDecoder, type DecodedRecord, type RecordDecoder } from '../copybooks/record-decoder';
import { createRecordEncoder, type RecordEncoder } from '../copybooks/record-encoder';
import { BatchError } from './batch-errors';

// The mainframe contract is the copybooks in copybooks/mainframe/: each record module compiles its
// copybook once per code page through the engine, so the bytes follow the copybook, not this code.

export const DEFAULT_MAINFRAME_CODEPAGE = 'cp037';

/** An EBCDIC code page of the engine; ASCII and Latin-1 are refused (the mainframe reads EBCDIC). */
export function mainframeCodePage(requested: string = DEFAULT_MAINFRAME_CODEPAGE): CodePage {
  let page: CodePage;
  try {
    page = getCodePage(requested);
  } catch (cause) {
    throw new BatchError('CODEPAGE_INVALID', `unknown code page ${JSON.stringify(requested)}`, {}, { cause });
  }
  if (page.family !== 'ebcdic') {
    throw new BatchError('CODEPAGE_INVALID', `code page ${page.name} is not EBCDIC; the mainframe files are EBCDIC`);
  }
  return page;
}

export interface RecordCodec {
  readonly size: number;
  /** A view of the encoder's buffer, valid until the next call. */
  encode(fields: Record<string, unknown>): Uint8Array;
  /** Decodes one record or throws BatchError RECORD_INVALID naming the first bad field. */
  decode(bytes: Uint8Array, where: { file: string; record: number; offset: number }): DecodedRecord;
}

const codecs = new Map<string, RecordCodec>();

export function recordCodec(name: MainframeCopybook, page: CodePage): RecordCodec {
  const key = `${name}/${page.name}`;
  let codec = codecs.get(key);
  if (codec) return codec;
  const layout = mainframeLayout(name);
  const encoder: RecordEncoder = createRecordEncoder(layout, { codePage: page });
  const decoder: RecordDecoder = createRecordDecoder(layout, { codePage: page });
  codec = Object.freeze({
    size: layout.size,
    encode: (fields: Record<string, unknown>): Uint8Array => {
      try {
        return encoder.encode(fields);
      } catch (err) {
        if (err instanceof CopybookError) {
          const inner = err.errors[0] ?? err;
          throw new BatchError(
            'VALUE_INVALID',
            `${name}: ${inner.message}`,
            {
              ...(inner.context.field !== undefined ? { field: inner.context.field } : {}),
            },
            { cause: err },
          );
        }
        throw err;
      }
    },
    decode: (bytes: Uint8Array, where: { file: string; record: number; offset: number }): DecodedRecord => {
      const fast = decoder.decodeValid(bytes);
      if (fast) return fast;
      const { value, errors } = decoder.decodeAll(bytes);
      const first = errors[0];
      if (!first) return value;
      const inner = first.errors[0] ?? first;
      const fieldOffset = inner.context.offset ?? 0;
      throw new BatchError(
        'RECORD_INVALID',
        inner.message,
        {
          file: where.file,
          record: where.record,
          offset: where.offset + fieldOffset,
          ...(inner.context.field !== undefined ? { field: inner.context.field } : {}),
        },
        { cause: first },
      );
    },
  });
  codecs.set(key, codec);
  return codec;
}

/** The record type byte (position 1) as a character of the code page. */
export function recordTypeOf(bytes: Uint8Array, page: CodePage): string {
  const first = bytes[0];
  return first === undefined ? '' : String.fromCharCode(page.toUnicode[first] ?? 0);
}
