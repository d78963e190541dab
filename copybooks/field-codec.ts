/** What every field codec offers; errors it throws lack field context, which the record plan adds. */
export interface FieldCodec {
  readonly size: number;
  /** Decodes buf[pos, pos+size). Throws CopybookError for bytes that are not a valid value. */
  decode(buf: Uint8Array, pos: number): string;
  /** Encodes into buf[pos, pos+size). Throws CopybookError for a value that does not fit exactly. */
  encode(value: unknown, buf: Uint8Array, pos: number): void;
}
