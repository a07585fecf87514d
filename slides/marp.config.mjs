// marp.config.mjs - how slides/render.sh renders the decks with Marp CLI.
//
// The decks are plain Markdown with no front matter (DESIGN.md section 6),
// so everything Marp would read from front matter is set here instead:
// the theme, slide numbers, and self-contained output.
import { readFileSync } from 'node:fs'
import { dirname, extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const slidesDir = dirname(fileURLToPath(import.meta.url))

const mimeTypes = {
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
}

// Replace a local image path (relative to slides/) with a data: URL, so
// that each HTML file works alone, offline. Remote URLs are left alone;
// sync.sh --check refuses them anyway.
const inlineImage = (src) => {
  if (/^[a-z][a-z0-9+.-]*:|^\/\//i.test(src)) return src
  const type = mimeTypes[extname(src).toLowerCase()]
  if (!type) throw new Error(`slides: cannot inline ${src}: unknown type`)
  const data = readFileSync(join(slidesDir, decodeURI(src)))
  return `data:${type};base64,${data.toString('base64')}`
}

const sockstep = (md) => {
  // Slide numbers on every slide: the global directive a deck would
  // otherwise carry in its front matter.
  md.core.ruler.before('normalize', 'sockstep_paginate', (state) => {
    state.src = `<!-- paginate: true -->\n\n${state.src}`
  })

  md.core.ruler.after('inline', 'sockstep_slides', (state) => {
    for (const token of state.tokens) {
      // "<!-- quote: FILE REGION -->" lines tell sync.sh where a code
      // block comes from; they are not presenter notes.
      if (token.type === 'marpit_comment' && /^quote:/.test(token.content)) {
        token.meta = token.meta || {}
        token.meta.marpitCommentParsed = 'sockstep-quote'
      }
      for (const child of token.children || []) {
        if (child.type === 'image')
          child.attrSet('src', inlineImage(child.attrGet('src')))
      }
    }
  })
}

export default {
  engine: ({ marp }) => marp.use(sockstep),
  theme: join(slidesDir, 'theme', 'sockstep.css'),
  html: false,
  // A deck's paragraphs are wrapped at ~72 columns to read well as
  // Markdown; on a slide they should flow (Marp breaks lines by default).
  options: { markdown: { breaks: false } },
  allowLocalFiles: false,
  bespoke: { progress: true },
}
