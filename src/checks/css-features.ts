// Which caniemail CSS features a stylesheet or a style attribute uses, counted by slug. The CSS
// is parsed by the caniemail package's own parser (@adobe/css-tools, lenient: a broken rule is
// skipped, never thrown); the mapping from properties, values, selectors and at-rules to feature
// slugs is ours, read off caniemail's feature titles.
import { parseCss } from 'caniemail';
import { FEATURES } from './caniemail-data.ts';

export type Hit = (slug: string) => void;

/** The part of css-tools' tree read here. */
interface CssNode {
  type: string;
  selectors?: string[];
  declarations?: CssNode[];
  property?: string;
  value?: string;
  rules?: CssNode[];
  keyframes?: CssNode[];
  media?: string;
}

// Properties whose caniemail title is the property itself ("border-radius", "z-index").
const BY_TITLE = new Map(
  [...FEATURES.values()]
    .filter((f) => f.category === 'css' && /^[a-z-]+$/.test(f.title))
    .map((f) => [f.title, f.slug] as const),
);

const group = (slug: string, names: string) => names.split(' ').map((n) => [n, slug] as const);
const BY_NAME = new Map<string, string>([
  ...group('css-block-inline-size', 'block-size'),
  ...group('css-inline-size', 'inline-size'),
  ...group('css-border-inline-block', 'border-inline border-block'),
  ...group(
    'css-border-inline-block-individual',
    'border-block-end border-block-start border-inline-end border-inline-start',
  ),
  ...group(
    'css-border-inline-block-longhand',
    'border-block-color border-block-style border-block-width border-inline-color border-inline-style border-inline-width',
  ),
  ...group(
    'css-border-radius-logical',
    'border-end-end-radius border-end-start-radius border-start-end-radius border-start-start-radius',
  ),
  ...group('css-color-scheme', 'color-scheme'),
  ...group(
    'css-column-layout-properties',
    'columns column-fill column-rule column-rule-color column-rule-style column-rule-width column-span column-width',
  ),
  ...group('css-gap', 'gap column-gap row-gap'),
  ...group('css-flex-direction', 'flex-direction'),
  ...group('css-flex-wrap', 'flex-wrap'),
  ...group('css-font', 'font'),
  ...group('css-height', 'height'),
  ...group('css-width', 'width'),
  ...group('css-max-height', 'max-height'),
  ...group('css-min-height', 'min-height'),
  ...group('css-min-width', 'min-width'),
  ...group('css-left-right-top-bottom', 'left right top bottom'),
  ...group('css-margin-block-start-end', 'margin-block-start margin-block-end'),
  ...group('css-margin-inline-block', 'margin-inline margin-block'),
  ...group('css-margin-inline-start-end', 'margin-inline-start margin-inline-end'),
  ...group('css-padding-block-start-end', 'padding-block-start padding-block-end'),
  ...group('css-padding-inline-block', 'padding-inline padding-block'),
  ...group('css-padding-inline-start-end', 'padding-inline-start padding-inline-end'),
]);

// Longhands that belong to a shorthand's feature.
const BY_PATTERN: [RegExp, string][] = [
  [/^border-(?:top|bottom)-(?:left|right)-radius$/, 'css-border-radius'],
  [/^border-(?:(?:top|right|bottom|left)(?:-(?:width|style|color))?|width|style|color)$/, 'css-border'],
  [/^margin-(?:top|right|bottom|left)$/, 'css-margin'],
  [/^padding-(?:top|right|bottom|left)$/, 'css-padding'],
  [/^animation-/, 'css-animation'],
  [/^transition-/, 'css-transition'],
  [/^scroll-snap-/, 'css-scroll-snap'],
  [/^grid-template-/, 'css-grid-template'],
];

const FUNCTIONS: [RegExp, string][] = [
  [/(?<![\w-])calc\(/i, 'css-unit-calc'],
  [/(?<![\w-])clamp\(/i, 'css-function-clamp'],
  [/(?<![\w-])min\(/i, 'css-function-min'],
  [/(?<![\w-])max\(/i, 'css-function-max'],
  [/(?<![\w-])light-dark\(/i, 'css-function-light-dark'],
  [/(?<![\w-])(?:repeating-)?linear-gradient\(/i, 'css-linear-gradient'],
  [/(?<![\w-])(?:repeating-)?radial-gradient\(/i, 'css-radial-gradient'],
  [/(?<![\w-])(?:repeating-)?conic-gradient\(/i, 'css-conic-gradient'],
  [/(?<![\w-])rgb\(/i, 'css-rgb'],
  [/(?<![\w-])rgba\(/i, 'css-rgba'],
  [/(?<![\w-])(?:ok)?(?:lch|lab)\(/i, 'css-modern-color'],
  [/(?<![\w-])var\(/i, 'css-variables'],
  [/(?<![\w-])(?:fit|min|max)-content\b/i, 'css-intrinsic-size'],
  [/!\s*important/i, 'css-important'],
  [/(?<![\w-])(?:system-ui|ui-serif|ui-sans-serif|ui-rounded|ui-monospace)(?![\w-])/i, 'css-sytem-ui'],
];

const UNIT = /(?<![\w#.-])[-+]?(?:\d*\.)?\d+(px|em|rem|ex|ch|vw|vh|vmin|vmax|cm|mm|in|pt|pc|%)(?![\w-])/gi;

function propertySlug(property: string): string | undefined {
  return BY_TITLE.get(property) ?? BY_NAME.get(property) ?? BY_PATTERN.find(([re]) => re.test(property))?.[1];
}

/** The features one declaration uses: its property, and the functions, units and keywords in its value. */
export function declarationFeatures(property: string, rawValue: string, hit: Hit): void {
  const name = property.trim().toLowerCase();
  // Units inside url(...) and strings are not lengths.
  const value = rawValue.replace(/url\([^)]*\)|"[^"]*"|'[^']*'/gi, ' ');
  if (name.startsWith('--')) hit('css-variables');
  const slug = propertySlug(name);
  if (slug) hit(slug);
  if (name === 'display') {
    const shown = value.trim().toLowerCase();
    if (/\b(?:inline-)?flex\b/.test(shown)) hit('css-display-flex');
    if (/\b(?:inline-)?grid\b/.test(shown)) hit('css-display-grid');
    if (/\bnone\b/.test(shown)) hit('css-display-none');
  }
  for (const [re, feature] of FUNCTIONS) if (re.test(value)) hit(feature);
  if (/(?<![\w-])initial(?![\w-])/i.test(value)) hit('css-unit-initial');
  const units = new Set<string>();
  for (const m of value.matchAll(UNIT)) units.add((m[1] ?? '').toLowerCase());
  for (const unit of units) hit(unit === '%' ? 'css-unit-percent' : `css-unit-${unit}`);
}

const PSEUDO_ELEMENTS = new Set(['after', 'before', 'first-letter', 'first-line', 'marker', 'placeholder']);
const PSEUDO_CLASSES = new Set(
  'active checked default first-child first-of-type focus-visible focus-within focus has hover lang last-child last-of-type link not nth-child nth-last-child nth-last-of-type nth-of-type only-child only-of-type target visited'.split(
    ' ',
  ),
);

/** The selector features of one selector (a rule's comma-separated list is split already). */
export function selectorFeatures(selector: string, hit: Hit): void {
  const s = selector.replace(/"[^"]*"|'[^']*'/g, '""');
  if (s.includes('&')) hit('css-nesting');
  for (const m of s.matchAll(/(::?)([a-z-]+)/gi)) {
    const name = (m[2] ?? '').toLowerCase();
    if (PSEUDO_ELEMENTS.has(name) && (m[1] === '::' || !['marker', 'placeholder'].includes(name)))
      hit(`css-pseudo-element-${name}`);
    else if (m[1] === ':' && PSEUDO_CLASSES.has(name)) hit(`css-pseudo-class-${name}`);
  }
  // What is left once attribute tests and pseudo parts (with their arguments) are gone.
  const bare = s
    .replace(/\[[^\]]*\]/g, () => {
      hit('css-selector-attribute');
      return '[]';
    })
    .replace(/::?[a-z-]+(?:\([^)]*\))?/gi, '')
    .trim();
  if (/#[a-z_-]/i.test(bare)) hit('css-selector-id');
  if (/\.[a-z_-]/i.test(bare)) hit('css-selector-class');
  if (bare.includes('*')) hit('css-selector-universal');
  if (/(?:^|[\s>+~])[a-z][a-z0-9-]*/i.test(bare)) hit('css-selector-type');
  if (bare.includes('>')) hit('css-selector-child');
  if (bare.includes('+')) hit('css-selector-adjacent-sibling');
  if (bare.includes('~')) hit('css-selector-general-sibling');
  if (/\S\s+\S/.test(bare.replace(/\s*[>+~]\s*/g, '>'))) hit('css-selector-descendant');
  if (/[\w\-\]*](?:[.#]|\[\])/.test(bare)) hit('css-selector-chaining');
}

const MEDIA_FEATURES: [RegExp, string][] = [
  [/prefers-color-scheme/i, 'css-at-media-prefers-color-scheme'],
  [/prefers-reduced-motion/i, 'css-at-media-prefers-reduced-motion'],
  [/\borientation\b/i, 'css-at-media-orientation'],
  [/\b(?:any-)?hover\b/i, 'css-at-media-hover'],
  [/device-pixel-ratio/i, 'css-at-media-device-pixel-ratio'],
];

function declarations(list: CssNode[] | undefined, hit: Hit): void {
  for (const d of list ?? []) {
    if (d.type === 'declaration' && d.property) declarationFeatures(d.property, d.value ?? '', hit);
    else if (d.type === 'comment') hit('css-comments');
    else if (d.type === 'rule') {
      // A rule among declarations is CSS Nesting (counted by its selector when it has an &).
      if (!d.selectors?.some((sel) => sel.includes('&'))) hit('css-nesting');
      rules([d], hit);
    }
  }
}

function rules(list: CssNode[] | undefined, hit: Hit): void {
  for (const node of list ?? []) {
    switch (node.type) {
      case 'rule':
        if ((node.selectors?.length ?? 0) > 1) hit('css-selector-grouping');
        for (const selector of node.selectors ?? []) selectorFeatures(selector, hit);
        declarations(node.declarations, hit);
        break;
      case 'comment':
        hit('css-comments');
        break;
      case 'media':
        hit('css-at-media');
        for (const [re, slug] of MEDIA_FEATURES) if (re.test(node.media ?? '')) hit(slug);
        rules(node.rules, hit);
        break;
      case 'font-face':
        hit('css-at-font-face');
        break;
      case 'import':
        hit('css-at-import');
        break;
      case 'supports':
        hit('css-at-supports');
        rules(node.rules, hit);
        break;
      case 'keyframes':
        hit('css-at-keyframes');
        for (const frame of node.keyframes ?? []) declarations(frame.declarations, hit);
        break;
      default:
        // @container, @layer, @page and others: what they hold is still CSS.
        rules(node.rules, hit);
    }
  }
}

/** The features a <style> element's stylesheet uses. */
export function stylesheetFeatures(css: string, hit: Hit): void {
  const sheet = parseCss(css) as unknown as { stylesheet?: { rules?: CssNode[] } };
  rules(sheet.stylesheet?.rules, hit);
}

/** The features a style attribute uses. */
export function inlineStyleFeatures(style: string, hit: Hit): void {
  // A brace in the attribute would end the wrapper rule early; nothing legitimate has one.
  const sheet = parseCss(`x{${style.replace(/[{}]/g, ' ')}}`) as unknown as {
    stylesheet?: { rules?: CssNode[] };
  };
  for (const rule of sheet.stylesheet?.rules ?? []) declarations(rule.declarations, hit);
}
