// Story mode: arrow keys (and Page Up/Down, space) move between slides by clicking the page's own links,
// so every slide keeps its own address (/story/3).
document.addEventListener("keydown", function (event) {
  if (!document.querySelector(".story-root")) return;
  var tag = (event.target && event.target.tagName) || "";
  if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (event.target && event.target.isContentEditable)) return;
  var forward = ["ArrowRight", "PageDown", " "].indexOf(event.key) >= 0;
  var back = ["ArrowLeft", "PageUp"].indexOf(event.key) >= 0;
  var link = document.getElementById(forward ? "story-next" : back ? "story-prev" : "");
  if (link && !link.classList.contains("disabled")) {
    event.preventDefault();
    link.click();
  }
});
