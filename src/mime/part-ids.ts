// Runs postal-mime and labels every attachment with its MIME part path, the section numbers of
// IMAP (RFC 3501 §6.4.5) that Mailpit uses as PartID: "2" is the second child of the top-level
// multipart, "1.3" the third child of the first; a single-part message's body is "1".
//
// postal-mime does not report part paths, so this hooks its collectAttachment step (called once
// per attachment with the MIME tree node that holds it) and walks that node up to the root. The
// hook is checked when the module loads, so a postal-mime release that renames it fails loudly
// instead of producing wrong ids. message/rfc822 parts are kept as attachments (as Mailpit does),
// so every part belongs to one tree and every attachment gets a path.
import PostalMime, { type Attachment, type Email } from 'postal-mime';
import { spansBuffer } from '../runtime/thread-bytes.ts';

interface TreeNode {
  parentNode?: TreeNode | undefined;
  childNodes: TreeNode[];
}

interface PostalInternals {
  attachments: Attachment[];
  collectAttachment(node: TreeNode, ...rest: unknown[]): void;
}

const internals = PostalMime.prototype as unknown as Partial<PostalInternals>;
if (typeof internals.collectAttachment !== 'function') {
  throw new Error('postal-mime no longer has collectAttachment(); part ids cannot be computed');
}

/** Limits passed to postal-mime; exceeding one rejects the parse with postal-mime's message. */
const PARSER_OPTIONS = {
  forceRfc822Attachments: true,
  attachmentEncoding: 'arraybuffer',
  maxNestingDepth: 100,
  maxHeadersSize: 2 * 1024 * 1024,
} as const;

function partPath(node: TreeNode): string {
  const indexes: number[] = [];
  for (let n = node; n.parentNode; n = n.parentNode) indexes.push(n.parentNode.childNodes.indexOf(n) + 1);
  return indexes.length === 0 ? '1' : indexes.reverse().join('.');
}

export interface LabelledEmail {
  email: Email;
  /** Attachment → MIME part path, for every entry of email.attachments. */
  partIds: Map<Attachment, string>;
}

export async function parseWithPartIds(raw: Uint8Array): Promise<LabelledEmail> {
  const partIds = new Map<Attachment, string>();
  const parser = new PostalMime(PARSER_OPTIONS);
  const hooked = parser as unknown as PostalInternals;
  const collect = hooked.collectAttachment;
  hooked.collectAttachment = function (this: PostalInternals, node: TreeNode, ...rest: unknown[]): void {
    collect.call(this, node, ...rest);
    const added = this.attachments[this.attachments.length - 1];
    if (added) partIds.set(added, partPath(node));
  };
  // A view of its whole buffer is given as that buffer: postal-mime copies a view's bytes out
  // first (100 µs for 100 KB), never a buffer's, and only reads them.
  const email = await parser.parse(spansBuffer(raw) ? (raw.buffer as ArrayBuffer) : raw);
  return { email, partIds };
}

/** The attachment's decoded bytes (postal-mime keeps them as an ArrayBuffer or a view). */
export function contentBytes(a: Attachment): Uint8Array {
  if (typeof a.content === 'string') return new TextEncoder().encode(a.content);
  return a.content instanceof Uint8Array ? a.content : new Uint8Array(a.content);
}
