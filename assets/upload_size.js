// A photo over the upload limit is refused here, before it is sent (the server would answer 413, which
// only the browser console shows): the page is told its name and size, and says so in place of any
// earlier message. The limit matches core.data.upload.MAX_BYTES.
(function () {
  var LIMIT = 10 * 1024 * 1024;
  function tell(file) {
    if (!file || file.size <= LIMIT || !window.dash_clientside || !window.dash_clientside.set_props) return;
    window.dash_clientside.set_props("gradcam-upload-too-big", {
      data: { name: String(file.name).slice(0, 120), bytes: file.size, at: Date.now() },
    });
  }
  document.addEventListener(
    "change",
    function (event) {
      var input = event.target;
      if (input && input.type === "file" && input.closest && input.closest("#gradcam-upload")) {
        tell(input.files && input.files[0]);
      }
    },
    true
  );
  document.addEventListener(
    "drop",
    function (event) {
      if (event.target && event.target.closest && event.target.closest("#gradcam-upload")) {
        tell(event.dataTransfer && event.dataTransfer.files && event.dataTransfer.files[0]);
      }
    },
    true
  );
})();
