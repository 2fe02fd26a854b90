import { verifyGitHubSignature } from '../webhook-signature';
import { type CallbackSource, isObject } from './types';

/**
 * GitHub (`POST /callbacks/github`, GITHUB_WEBHOOK_SECRET): `X-Hub-Signature-256` over the body. GitHub does not
 * sign `X-GitHub-Delivery`, so the key is the signed body (a captured delivery resent under a new ID is still a
 * duplicate). Event type `<X-GitHub-Event>[.<action>]`; handlers subscribe to `github:<name>[.<action>]`.
 */
export const githubSource: CallbackSource<'github'> = {
  name: 'github',
  verify: (raw, header, secrets) => verifyGitHubSignature(raw, header('x-hub-signature-256'), secrets),
  identify(object, body, header) {
    const delivery = header('x-github-delivery');
    const name = header('x-github-event');
    if (!delivery || !name) return 'X-GitHub-Delivery and X-GitHub-Event are required';
    const action = typeof object.action === 'string' ? `.${object.action}` : '';
    return { externalId: delivery, eventType: `${name}${action}`.slice(0, 200), dedupe: `body:${body}` };
  },
  inputOf(row, json) {
    // event_type is `<X-GitHub-Event>` or `<X-GitHub-Event>.<action>`.
    const name = row.eventType.split('.')[0] ?? row.eventType;
    return isObject(json)
      ? {
          ok: true,
          input: { source: 'github', event: { name, delivery: row.externalId ?? '', payload: json } },
        }
      : { ok: false, reason: 'GitHub payload is not an object' };
  },
  handlerView(input) {
    const action = input.event.payload.action;
    const names = [`github:${input.event.name}`, 'github:*'];
    if (typeof action === 'string') names.push(`github:${input.event.name}.${action}`);
    return { names, event: input.event };
  },
};
