/*
 * 搜索结果的摘要取自正文（book/_ext/seqbook_book.py 只在搜索页载入本文件和 seqbook-search-text.js）。
 * Sphinx 默认下载每个结果页面、从 [role=main] 截取摘要：这个主题的 [role=main] 从页眉按钮和页内目录
 * 开始，摘要就成了菜单文字；从磁盘（file://）打开时页面下载不了，干脆没有摘要。这里关掉默认做法，
 * 改用随书生成的每页正文文字，在磁盘上和 HTTP 上都一样。
 */
(() => {
  if (typeof DOCUMENTATION_OPTIONS !== "undefined") DOCUMENTATION_OPTIONS.SHOW_SEARCH_SUMMARY = false;
  const pageText = () => (typeof SEQBOOK_PAGE_TEXT === "undefined" ? {} : SEQBOOK_PAGE_TEXT);

  const queryTerms = () => {
    const query = new URLSearchParams(window.location.search).get("q") || "";
    const terms = typeof splitQuery === "function" ? splitQuery(query.trim()) : query.split(/\s+/);
    return [...new Set(terms.filter((t) => t && !t.startsWith("-")).map((t) => t.toLowerCase()))];
  };

  const docName = (href) => {
    const suffix = DOCUMENTATION_OPTIONS.LINK_SUFFIX || ".html";
    let name = href.split("#")[0].split("?")[0];
    if (name.endsWith(suffix)) name = name.slice(0, name.length - suffix.length);
    return name;
  };

  // 摘要：第一个查询词第一次出现处前后共 240 个字符，查询词高亮
  const makeSummary = (text, terms) => {
    const lower = text.toLowerCase();
    const positions = terms.map((t) => lower.indexOf(t)).filter((i) => i > -1);
    const first = positions.length ? Math.min(...positions) : 0;
    const start = Math.max(first - 80, 0);
    const piece = text.substr(start, 240);
    const summary = document.createElement("p");
    summary.classList.add("context");
    if (start > 0) summary.append("……");
    const pattern = terms.length
      ? new RegExp(terms.map((t) => t.replace(/[.*+\-?^${}()|[\]\\]/g, "\\$&")).join("|"), "gi")
      : null;
    let last = 0;
    if (pattern) {
      for (const match of piece.matchAll(pattern)) {
        summary.append(piece.slice(last, match.index));
        const mark = document.createElement("span");
        mark.classList.add("highlighted");
        mark.textContent = match[0];
        summary.append(mark);
        last = match.index + match[0].length;
      }
    }
    summary.append(piece.slice(last));
    if (start + 240 < text.length) summary.append("……");
    return summary;
  };

  const addSummary = (item) => {
    const link = item.querySelector("a");
    if (!link || item.querySelector("p.context")) return;
    const text = pageText()[docName(link.getAttribute("href"))];
    if (text) item.appendChild(makeSummary(text, queryTerms()));
  };

  document.addEventListener("DOMContentLoaded", () => {
    const results = document.getElementById("search-results");
    if (!results) return;
    new MutationObserver((mutations) => {
      for (const mutation of mutations)
        for (const added of mutation.addedNodes)
          if (added.nodeName === "LI") addSummary(added);
    }).observe(results, { childList: true, subtree: true });
  });
})();
