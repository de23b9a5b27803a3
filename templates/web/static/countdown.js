// Optional: keeps the server-rendered "剩余 …" countdowns current. The page is correct without it.
(function () {
  function fmt(s) {
    var neg = s <= 0, a = Math.abs(s), d = Math.floor(a / 86400), h = Math.floor(a % 86400 / 3600), m = Math.floor(a % 3600 / 60);
    var t = d ? d + "天" + h + "小时" : h ? h + "小时" + m + "分" : m + "分";
    return neg ? "已超时 " + t : "剩余 " + t;
  }
  function tick() {
    var nodes = document.querySelectorAll(".countdown[data-deadline]"), now = Date.now();
    for (var i = 0; i < nodes.length; i++) {
      var dl = Date.parse(nodes[i].getAttribute("data-deadline"));
      if (!isNaN(dl) && nodes[i].hasAttribute("data-live")) nodes[i].textContent = fmt(Math.floor((dl - now) / 1000));
    }
  }
  document.addEventListener("DOMContentLoaded", function () { tick(); setInterval(tick, 30000); });
})();
