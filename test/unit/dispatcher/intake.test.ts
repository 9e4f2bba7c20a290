import { describe, expect, it } from 'vitest';
import { Intake } from '../../../src/dispatcher/intake.js';

describe('Intake', () => {
  it('takes deliveries up to the budget, then none until the first refused one fits', () => {
    const changes: boolean[] = [];
    const intake = new Intake(10, (paused) => changes.push(paused));
    expect(intake.admit(4)).toBe(true);
    expect(intake.admit(6)).toBe(true); // exactly at the budget
    expect(intake.admit(3)).toBe(false); // would cross it: paused
    expect(intake.admit(1)).toBe(false); // paused: even one that would fit waits
    expect(changes).toEqual([true]);
    intake.release(4); // 6 held: the refused 3 would make 9, within the budget
    expect(changes).toEqual([true, false]);
    expect(intake.admit(3)).toBe(true);
    expect(intake.peak).toBe(10);
    expect(intake.bytes).toBe(9);
  });

  it('takes a body larger than the whole budget when nothing else is held', () => {
    const changes: boolean[] = [];
    const intake = new Intake(10, (paused) => changes.push(paused));
    expect(intake.admit(25)).toBe(true);
    expect(intake.admit(1)).toBe(false);
    intake.release(25);
    expect(changes).toEqual([true, false]);
    expect(intake.admit(1)).toBe(true);
  });
});
