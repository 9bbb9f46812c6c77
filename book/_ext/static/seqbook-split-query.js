/*
 * 中文查询的切分（book/_ext/seqbook_book.py 把它放进 language_data.js，取代 Sphinx 默认的 splitQuery）。
 * 先按非字母数字切开；每段连续的汉字再按索引中已有的词做正向最长匹配：“束搜索的束宽”→“束搜索”“束宽”。
 * 索引里没有的单个汉字（“的”）丢掉，因为 Sphinx 要求结果页包含每个查询词。
 * tests/test_search.py 中的 split_query 是它的 Python 版本，两者要一起改。
 */
var splitQuery = (query) => {
  const index = (typeof Search !== "undefined" && Search._index) || null;
  const known = (word) =>
    index !== null &&
    (Object.prototype.hasOwnProperty.call(index.terms, word) ||
      Object.prototype.hasOwnProperty.call(index.titleterms, word));
  // 整个查询就是一个夹着字母数字的术语（“前 k 采样”“Nadaraya-Watson 核回归”）时，作为一个词查
  const compact = query.replace(/\s+/g, "").toLowerCase();
  if (/[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]/.test(compact) && /[^\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]/.test(compact) && known(compact))
    return [compact];
  const result = [];
  query
    .split(/[^\p{Letter}\p{Number}_\p{Emoji_Presentation}]+/gu)
    .filter((term) => term)
    .forEach((word) => {
      word.match(/[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[^\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+/g).forEach((run) => {
        if (!/[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]/.test(run) || index === null || known(run)) {
          result.push(run);
          return;
        }
        let i = 0;
        while (i < run.length) {
          let j = Math.min(run.length, i + 16);
          while (j > i + 1 && !known(run.slice(i, j))) j--;
          if (j > i + 1 || known(run[i])) result.push(run.slice(i, j));
          i = j;
        }
      });
    });
  return result;
};
