import type { RequestHandler } from 'express';
import zlib from 'node:zlib';
import { HubError } from '../domain/errors';

// A request body read whole and parsed with one JSON.parse, with express.json's limits and answers
// (16 KiB, gzip/deflate/br bodies inflated, UTF-8 only) and none of its per-request layers: body-parser
// re-reads the headers, builds a decoder stream and a limit checker for every request.

const INFLATE: Record<string, ((buf: Buffer, opts: zlib.ZlibOptions) => Buffer) | undefined> = {
  gzip: zlib.gunzipSync,
  deflate: zlib.inflateSync,
};

export function readJsonBody(limitBytes: number): RequestHandler {
  const tooLarge = (): HubError =>
    new HubError('payload_too_large', `the body is larger than ${Math.round(limitBytes / 1024)} KiB`);
  return (req, _res, next) => {
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1]?.toLowerCase();
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')
      return next(new HubError('unsupported_media_type', 'send the body as UTF-8 JSON'));
    const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding !== 'identity' && encoding !== 'br' && INFLATE[encoding] === undefined)
      return next(new HubError('unsupported_media_type', 'send the body as UTF-8 JSON'));
    const declared = req.headers['content-length'];
    if (encoding === 'identity' && declared !== undefined && Number(declared) > limitBytes) {
      req.resume();
      return next(tooLarge());
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (err: unknown): void => {
      if (settled) return;
      settled = true;
      req.removeListener('data', onData);
      req.removeListener('end', onEnd);
      req.removeListener('error', onError);
      if (err) req.resume();
      next(err);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limitBytes) return finish(tooLarge());
      chunks.push(chunk);
    };
    const onError = (): void =>
      finish(new HubError('malformed_json', 'the request could not be read (the body was cut short)'));
    const onEnd = (): void => {
      try {
        let raw = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
        if (encoding !== 'identity') raw = inflate(raw, encoding, limitBytes, tooLarge);
        let text = raw.toString('utf8');
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        // An empty body reads as {}, as express.json had it.
        req.body = text.length === 0 ? {} : (JSON.parse(text) as unknown);
        finish(undefined);
      } catch (err) {
        finish(err instanceof HubError ? err : new HubError('malformed_json', 'the body is not valid JSON'));
      }
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  };
}

function inflate(raw: Buffer, encoding: string, limitBytes: number, tooLarge: () => HubError): Buffer {
  // One byte over the limit is enough to know the body is too large.
  const opts = { maxOutputLength: limitBytes + 1 };
  let out: Buffer;
  try {
    out =
      encoding === 'br'
        ? zlib.brotliDecompressSync(raw, opts)
        : (INFLATE[encoding] as NonNullable<(typeof INFLATE)[string]>)(raw, opts);
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge();
    throw new HubError('malformed_json', 'the body could not be inflated');
  }
  if (out.length > limitBytes) throw tooLarge();
  return out;
}
