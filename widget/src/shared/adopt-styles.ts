/**
 * Styles a shadow root with a constructed stylesheet, which a `style-src 'self'` policy allows
 * where it blocks `<style>`; browsers without constructable sheets get the element instead.
 */
export function adoptStyles(root: ShadowRoot, css: string) {
  if ('adoptedStyleSheets' in root && typeof CSSStyleSheet.prototype.replaceSync === 'function') {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
    return;
  }
  const style = document.createElement('style');
  style.textContent = css;
  root.append(style);
}
