import { describe, expect, it } from 'vitest';
import { createBus } from '../src/bus/bus.js';
import { onTerminal } from '../src/bus/by-terminal.js';

describe('onTerminal', () => {
  it("calls only the terminal's own handlers, in subscription order, through one bus listener per event type", () => {
    const bus = createBus();
    const calls: string[] = [];
    const offs = Array.from({ length: 50 }, (_, i) => {
      const id = `t${i}`;
      return [
        onTerminal(bus, 'output', id, (e) => calls.push(`${id} screen ${e.data}`)),
        onTerminal(bus, 'output', id, (e) => calls.push(`${id} log ${e.data}`)),
        onTerminal(bus, 'settled', id, (e) => calls.push(`${id} settled ${e.quiet}`)),
      ];
    });
    // 100 output consumers, 50 settled ones: still one mitt handler each
    expect(bus.all.get('output')).toHaveLength(1);
    expect(bus.all.get('settled')).toHaveLength(1);

    bus.emit('output', { terminalId: 't7', data: 'x' });
    bus.emit('settled', { terminalId: 't3', at: 0, quiet: true });
    bus.emit('output', { terminalId: 'nobody', data: 'y' });
    expect(calls).toEqual(['t7 screen x', 't7 log x', 't3 settled true']);

    calls.length = 0;
    offs[7]![0]!();
    offs[7]![0]!(); // twice is harmless
    bus.emit('output', { terminalId: 't7', data: 'z' });
    expect(calls).toEqual(['t7 log z']);
    offs[7]![1]!();
    calls.length = 0;
    bus.emit('output', { terminalId: 't7', data: 'gone' });
    expect(calls).toEqual([]);
  });

  it('a handler that unsubscribes itself or another during dispatch does not disturb that dispatch', () => {
    const bus = createBus();
    const calls: string[] = [];
    let offB: () => void = () => undefined;
    const offA = onTerminal(bus, 'output', 'a', () => {
      calls.push('first');
      offA();
      offB();
    });
    offB = onTerminal(bus, 'output', 'a', () => calls.push('second'));
    bus.emit('output', { terminalId: 'a', data: '1' });
    bus.emit('output', { terminalId: 'a', data: '2' });
    expect(calls).toEqual(['first', 'second']);
  });

  it('keeps separate buses apart', () => {
    const one = createBus();
    const two = createBus();
    const seen: string[] = [];
    onTerminal(one, 'output', 'a', () => seen.push('one'));
    onTerminal(two, 'output', 'a', () => seen.push('two'));
    two.emit('output', { terminalId: 'a', data: '' });
    expect(seen).toEqual(['two']);
  });
});
