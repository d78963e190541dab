import fs from 'node:fs';
import path from 'node:path';
import { layoutFromText, type Layout } from './copybook-layout';

// The mainframe contract's copybooks (copybooks/mainframe/*.cpy), found from the sources or from dist/
// and parsed once. Both sides of the interface read them: the hub's batch/ and the bank's simulator.

export type MainframeCopybook =
  | 'lhub-pay-header'
  | 'lhub-pay-detail'
  | 'lhub-pay-trailer'
  | 'lhub-rsp-header'
  | 'lhub-rsp-detail'
  | 'lhub-rsp-trailer';

let root: string | undefined;

function copybookDir(): string {
  if (root !== undefined) return root;
  let dir = __dirname;
  for (;;) {
    const candidate = path.join(dir, 'copybooks', 'mainframe');
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(candidate)) {
      root = candidate;
      return candidate;
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find copybooks/mainframe above ${__dirname}`);
    dir = up;
  }
}

const layouts = new Map<MainframeCopybook, Layout>();

export function mainframeLayout(name: MainframeCopybook): Layout {
  let layout = layouts.get(name);
  if (!layout) {
    const file = path.join(copybookDir(), `${name}.cpy`);
    layout = layoutFromText(fs.readFileSync(file, 'latin1'), { file: `copybooks/mainframe/${name}.cpy` });
    layouts.set(name, layout);
  }
  return layout;
}
