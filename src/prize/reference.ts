/**
 * The Netflix Prize's reference points, to read a probe RMSE against.
 *
 * - Cinematch, Netflix's own recommender, scored RMSE 0.9514 on the quiz half of qualifying.
 * - The grand prize asked for 10% better than Cinematch on the test half (0.9525): RMSE ≤ 0.8572.
 *
 * Probe ratings come from the same hold-out set as quiz and test (each user's most recent ratings),
 * so a probe RMSE is the usual stand-in for a quiz RMSE; it is not the same number.
 */
export const CINEMATCH_QUIZ_RMSE = 0.9514;
export const GRAND_PRIZE_RMSE = 0.8572;

/** The improvement over Cinematch in percent: 100 · (0.9514 − rmse) / 0.9514 (negative when worse). */
export function improvementOverCinematch(rmse: number): number {
  return (100 * (CINEMATCH_QUIZ_RMSE - rmse)) / CINEMATCH_QUIZ_RMSE;
}

export interface PrizeStanding {
  cinematchQuizRmse: number;
  grandPrizeRmse: number;
  /** Percent improvement over Cinematch's quiz RMSE. */
  improvementPct: number;
  beatsCinematch: boolean;
  reachesGrandPrize: boolean;
}

/** Where an RMSE stands against the Prize's reference points. */
export function standing(rmse: number): PrizeStanding {
  return {
    cinematchQuizRmse: CINEMATCH_QUIZ_RMSE,
    grandPrizeRmse: GRAND_PRIZE_RMSE,
    improvementPct: Math.round(improvementOverCinematch(rmse) * 100) / 100,
    beatsCinematch: rmse < CINEMATCH_QUIZ_RMSE,
    reachesGrandPrize: rmse <= GRAND_PRIZE_RMSE,
  };
}
