import { z } from 'zod';

// Rich replies (buttons and cards under a bot or agent message) as every visitor's widget renders
// them. The same limits as the database's messages_rich_shape constraint, checked first where a
// reply is written so that a workflow's malformed answer is refused in words, not by a failed
// insert. Links are http(s) only: the widget would drop anything else, so it is never stored.

const httpUrl = z
  .string()
  .max(2048)
  .regex(/^https?:\/\/\S+$/i, 'an http or https URL');

export const richButtonSchema = z.union([
  z.object({ label: z.string().min(1).max(80), url: httpUrl }).strict(),
  z.object({ label: z.string().min(1).max(80), payload: z.string().min(1).max(200) }).strict(),
]);

export const richCardSchema = z
  .object({
    title: z.string().min(1).max(120),
    text: z.string().max(1000).optional(),
    image_url: httpUrl.optional(),
    buttons: z.array(richButtonSchema).max(3).optional(),
  })
  .strict();

export const richSchema = z
  .object({
    buttons: z.array(richButtonSchema).max(5).optional(),
    cards: z.array(richCardSchema).max(10).optional(),
  })
  .strict();

export type Rich = z.infer<typeof richSchema>;

/** What is stored: null when there is nothing to show. */
export function storedRich(rich: Rich | null | undefined): Rich | null {
  if (!rich) return null;
  return rich.buttons?.length || rich.cards?.length ? rich : null;
}
