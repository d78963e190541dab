import { storeContract } from '../store-contract';
import { POSTGRES } from './test-databases';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()?.();
});
storeContract('PostgreSQL', async () => {
  const t = await POSTGRES.open();
  closers.push(() => t.close());
  return { ...t.store, close: async () => undefined };
});
