// The consent record an identity cannot be created without: who is shown, who recorded the consent, when, and what
// was agreed, with an evidence file. Validated with zod; the messages name the field.
import { z } from 'zod';

export const consentFieldsSchema = z
  .object({
    subjectName: z.string().trim().min(1).max(200),
    recordedBy: z.string().trim().min(1).max(200),
    recordedAt: z.iso.datetime({ offset: true }),
    statement: z
      .string()
      .trim()
      .min(20, 'the consent statement must say what was agreed (20 characters or more)')
      .max(10_000),
    /** The subject agreed to this use of their likeness: must be true. */
    subjectConsent: z.literal(true, {
      error: 'subjectConsent must be true: no identity without the subject’s consent',
    }),
  })
  .strict();

export type ConsentFields = z.infer<typeof consentFieldsSchema>;

/** Parses the multipart `consent` field (JSON), or says what is wrong with it. */
export function parseConsent(text: string | undefined): ConsentFields | string {
  if (text === undefined)
    return 'the consent field is required (JSON: subjectName, recordedBy, recordedAt, statement, subjectConsent)';
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return 'the consent field is not valid JSON';
  }
  const parsed = consentFieldsSchema.safeParse(json);
  if (!parsed.success)
    return `consent: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(record)'}: ${i.message}`).join('; ')}`;
  if (Date.parse(parsed.data.recordedAt) > Date.now() + 5 * 60_000) return 'consent.recordedAt is in the future';
  return parsed.data;
}
