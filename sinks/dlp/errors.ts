/** The error of a failed Cloud DLP inspection, apart from the client so that catching it loads no DLP code. */

/** The batch's inspection failed: nothing of the batch may be committed. */
export class DlpInspectionError extends Error {
  override readonly name = "DlpInspectionError";
  constructor(
    message: string,
    /** The gRPC status code, when DLP answered with one. */
    readonly code?: number,
  ) {
    super(message);
  }
}
