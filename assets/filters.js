// Functions the leaderboard's AG Grid calls by name (dash-ag-grid's dashAgGridFunctions).
var dagfuncs = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});

// Accuracies are stored as fractions; people type "92", "92 %", "0.92" or ">92": all mean 0.92.
dagfuncs.parsePercent = function (text) {
  if (text === null || text === undefined) return null;
  var cleaned = String(text).replace(/[>=%\s]/g, "");
  if (cleaned === "") return null;
  var value = parseFloat(cleaned);
  if (isNaN(value)) return null;
  return value > 1 ? value / 100 : value;
};
