// Webhook signing keys from the configuration: long enough that the HMAC cannot be guessed.

export const MIN_WEBHOOK_SECRET = 32;

/** Throws, naming the problem but never the key, when a configured key is too short. */
export function checkSecrets(flag: string, secrets: readonly string[]): void {
  secrets.forEach((s, i) => {
    if (s.length < MIN_WEBHOOK_SECRET)
      throw new Error(
        `${flag}: key ${i + 1} has ${s.length} characters; at least ${MIN_WEBHOOK_SECRET} are needed`,
      );
  });
}

export function checkWebhookSecrets(secrets: readonly string[]): void {
  checkSecrets('--webhook-secret', secrets);
}
