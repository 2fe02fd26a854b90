/** Vite's `?raw` imports: the file's text (test/recipes-config.test.ts reads wrangler.toml). */
declare module '*?raw' {
  const text: string;
  export default text;
}
