/** A video that cannot become a dataset, with the reason a person can act on. */
export class PrepareError extends Error {
  override name = 'PrepareError';
}
