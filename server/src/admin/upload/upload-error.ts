/** An upload the admin API refuses, with the HTTP status and a reason the uploader can act on. */
export class UploadRejected extends Error {
  override name = 'UploadRejected';
  constructor(
    readonly code: 'too-large' | 'bad-type' | 'bad-media' | 'bad-content' | 'bad-request',
    message: string,
  ) {
    super(message);
  }

  get status(): number {
    return this.code === 'too-large' ? 413 : this.code === 'bad-request' ? 400 : 422;
  }
}
