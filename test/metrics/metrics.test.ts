import { describe, expect, it } from 'vitest';
import { entitiesDefault, entitiesStrict } from '../../src/metrics/entities.js';
import { analyzeErrors, formatErrorAnalysis } from '../../src/metrics/errors.js';
import { classificationReport, entityScores, f1Score, precisionScore, recallScore, tokenAccuracy } from '../../src/metrics/scores.js';

const span = (e: { type: string; start: number; end: number }) => [e.type, e.start, e.end - 1]; // seqeval's inclusive end

describe("seqeval's documented examples", () => {
  const yTrue = [['O', 'O', 'O', 'B-MISC', 'I-MISC', 'I-MISC', 'O'], ['B-PER', 'I-PER', 'O']];
  const yPred = [['O', 'O', 'B-MISC', 'I-MISC', 'I-MISC', 'I-MISC', 'O'], ['B-PER', 'I-PER', 'O']];

  it('README: f1 0.50, accuracy 0.80, and the classification report', () => {
    expect(f1Score(yTrue, yPred)).toBe(0.5);
    expect(precisionScore(yTrue, yPred)).toBe(0.5);
    expect(recallScore(yTrue, yPred)).toBe(0.5);
    expect(tokenAccuracy(yTrue, yPred)).toBe(0.8);
    expect(classificationReport(entityScores(yTrue, yPred))).toBe(
      [
        '              precision    recall  f1-score   support',
        '',
        '        MISC       0.00      0.00      0.00         1',
        '         PER       1.00      1.00      1.00         1',
        '',
        '   micro avg       0.50      0.50      0.50         2',
        '   macro avg       0.50      0.50      0.50         2',
        'weighted avg       0.50      0.50      0.50         2',
        '',
      ].join('\n'),
    );
  });

  it('get_entities docstring', () => {
    expect(entitiesDefault(['B-PER', 'I-PER', 'O', 'B-LOC']).map(span)).toEqual([['PER', 0, 1], ['LOC', 3, 3]]);
  });

  it('README strict-mode example: I-NP I-NP counts by default, not in strict IOB2', () => {
    const gold = [['B-NP', 'I-NP', 'O']];
    const predicted = [['I-NP', 'I-NP', 'O']];
    expect(f1Score(gold, predicted)).toBe(1);
    expect(f1Score(gold, predicted, { mode: 'strict', scheme: 'BIO' })).toBe(0);
  });
});

describe('default get_entities semantics (hand-checked)', () => {
  it.each([
    [['I-PER', 'I-PER', 'O'], [['PER', 0, 1]]],
    [['B-PER', 'I-LOC'], [['PER', 0, 0], ['LOC', 1, 1]]],
    [['B-PER', 'E-PER', 'I-PER'], [['PER', 0, 1], ['PER', 2, 2]]],
    [['O', 'E-X'], [['X', 1, 1]]],
    [['S-X', 'I-X'], [['X', 0, 0], ['X', 1, 1]]],
    [['B-X', 'B-X', 'I-X'], [['X', 0, 0], ['X', 1, 2]]],
    [['B-Test-Value', 'I-Test-Value'], [['Test-Value', 0, 1]]],
  ])('%j', (tags, expected) => {
    expect(entitiesDefault(tags).map(span)).toEqual(expected);
  });
});

describe('strict mode (seqeval mode="strict")', () => {
  it('IOB2 accepts only B-X I-X*', () => {
    expect(entitiesStrict(['I-X', 'I-X', 'O'], 'BIO')).toEqual([]);
    expect(entitiesStrict(['B-X', 'I-Y', 'B-Z'], 'BIO').map(span)).toEqual([['X', 0, 0], ['Z', 2, 2]]);
    expect(() => entitiesStrict(['B-X', 'E-X'], 'BIO')).toThrow(/invalid tag 'E-X'/);
  });

  it('IOBES needs S-X or B-X I-X* E-X', () => {
    expect(entitiesStrict(['B-X', 'I-X', 'O'], 'BIOES')).toEqual([]);
    expect(entitiesStrict(['B-X', 'E-X', 'S-Y', 'I-Y', 'E-Y'], 'BIOES').map(span)).toEqual([['X', 0, 1], ['Y', 2, 2]]);
    expect(entitiesStrict(['B-X', 'I-X', 'E-Y'], 'BIOES')).toEqual([]);
  });
});

describe('averages and per-type table', () => {
  it('micro, macro and weighted differ as hand-computed', () => {
    const gold = [['B-A', 'O', 'B-A', 'O', 'B-B']];
    const predicted = [['B-A', 'O', 'O', 'O', 'B-A']];
    const scores = entityScores(gold, predicted);
    // A: tp 1, pred 2, support 2 -> p .5 r .5 f .5; B: tp 0, pred 0, support 1 -> 0.
    expect(scores.perType.get('A')).toMatchObject({ precision: 0.5, recall: 0.5, f1: 0.5, support: 2 });
    expect(scores.micro).toMatchObject({ precision: 0.5, recall: 1 / 3, support: 3 });
    expect(scores.micro.f1).toBeCloseTo(0.4, 12);
    expect(scores.macro.f1).toBe(0.25);
    expect(scores.weighted.f1).toBeCloseTo(1 / 3, 12);
    expect(() => entityScores(gold, [['O']])).toThrow(/sentence 0 has 5 gold tags but 1 predicted/);
  });
});

describe('error analysis', () => {
  it('classifies missed, spurious, wrong type, wrong boundary, and both', () => {
    const tokens = [['aspirin', 'and', 'chest', 'pain', 'in', 'type', '2', 'diabetes', 'with', 'rash', 'seen']];
    const gold = [['B-Drug', 'O', 'B-Symptom', 'I-Symptom', 'O', 'B-Disease', 'I-Disease', 'I-Disease', 'O', 'B-Symptom', 'O']];
    const predicted = [['B-Disease', 'B-Drug', 'O', 'B-Symptom', 'O', 'O', 'B-Symptom', 'I-Symptom', 'O', 'O', 'B-Drug']];
    const analysis = analyzeErrors(gold, predicted, { tokens });
    expect(analysis.correct).toBe(0);
    expect(analysis.counts).toEqual({ missed: 1, spurious: 2, wrongType: 1, wrongBoundary: 1, wrongTypeAndBoundary: 1 });
    expect(analysis.examples.wrongType[0]!.description).toBe('aspirin [Drug] -> aspirin [Disease]');
    expect(analysis.examples.wrongBoundary[0]!.description).toBe('chest pain [Symptom] -> pain [Symptom]');
    expect(analysis.examples.wrongTypeAndBoundary[0]!.description).toBe('type 2 diabetes [Disease] -> 2 diabetes [Symptom]');
    expect(analysis.examples.missed[0]!.description).toBe('rash [Symptom] -> (none)');
    expect(formatErrorAnalysis(analysis)).toContain('spurious: 2');
  });
});
