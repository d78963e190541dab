import { createProgressMeter } from '../../copybooks/progress-meter';

function sink(isTTY: boolean): { isTTY: boolean; text: string; write(s: string): boolean } {
  return {
    isTTY,
    text: '',
    write(s: string) {
      this.text += s;
      return true;
    },
  };
}

test('on a terminal it draws records/s and a bar, at most every 200 ms, and ends the line', () => {
  let now = 0;
  const out = sink(true);
  const meter = createProgressMeter(out, 'decode', 1_000_000, () => now);
  now = 1000;
  meter.tick(50_000, 500_000);
  now = 1100;
  meter.tick(60_000, 600_000); // within 200 ms of the last draw: not drawn
  now = 2000;
  meter.done();
  const frames = out.text.split('\r').filter((f) => f !== '');
  expect(frames).toHaveLength(2);
  expect(frames[0]).toContain('[############............]  50% 50,000 records, 50,000 records/s, 0.5 MB');
  expect(out.text.endsWith('\n')).toBe(true);
});

test('when stderr is piped or redirected nothing is written', () => {
  const out = sink(false);
  const meter = createProgressMeter(out, 'decode', 100);
  meter.tick(10, 10);
  meter.done();
  expect(out.text).toBe('');
});
