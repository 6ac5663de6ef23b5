/* The field app: pick a lot, record an event offline, send the queue when the signal returns.
   No framework, no build step. The page is kept by the service worker (sw.js); the lots and the
   queue live in IndexedDB. Each event gets its Idempotency-Key here, when it is recorded, and keeps
   it through every retry and edit: the server stores it once however often it is sent. */
(function () {
  "use strict";

  var body = document.body;
  var T = JSON.parse(document.getElementById("field-strings").textContent);
  var URLS = {
    sw: body.dataset.sw,
    scope: body.dataset.scope,
    session: body.dataset.session,
    lots: body.dataset.lots,
    lookup: body.dataset.lookup,
    events: body.dataset.events,
    login: body.dataset.login,
    qr: body.dataset.qrDecoder,
  };
  var PHOTO_MAX_SIDE = 1600; // pixels, the longer side
  var PHOTO_MAX_BYTES = 600 * 1024; // what a weak signal can carry; the server takes up to MAX_IMAGE_BYTES
  var THUMB_SIDE = 160;
  var RETRY_MS = 60000;
  var SENT_KEPT = 20;

  function $(id) { return document.getElementById(id); }
  function fill(text, values) {
    return String(text).replace(/\{(\w+)\}/g, function (match, name) {
      return name in values ? values[name] : match;
    });
  }
  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  function fold(text) {
    return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .replace(/đ/g, "d").replace(/Đ/g, "D").toLowerCase();
  }

  /* ---------------------------------------------------------------- IndexedDB */

  var database = null;
  function openDatabase() {
    if (database) return database;
    database = new Promise(function (resolve, reject) {
      var request = indexedDB.open("field-app", 1);
      request.onupgradeneeded = function () {
        var db = request.result;
        db.createObjectStore("queue", { keyPath: "key" });
        db.createObjectStore("lots", { keyPath: "id" });
        db.createObjectStore("meta", { keyPath: "name" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
    return database;
  }
  function store(name, mode, work) {
    return openDatabase().then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction(name, mode);
        var result;
        var request = work(transaction.objectStore(name));
        if (request) request.onsuccess = function () { result = request.result; };
        transaction.oncomplete = function () { resolve(result); };
        transaction.onerror = function () { reject(transaction.error); };
        transaction.onabort = function () { reject(transaction.error); };
      });
    });
  }
  function all(name) { return store(name, "readonly", function (s) { return s.getAll(); }); }
  function read(name, key) { return store(name, "readonly", function (s) { return s.get(key); }); }
  function save(name, value) { return store(name, "readwrite", function (s) { return s.put(value); }); }
  function remove(name, key) { return store(name, "readwrite", function (s) { return s.delete(key); }); }
  function replaceAll(name, values) {
    return store(name, "readwrite", function (s) {
      s.clear();
      values.forEach(function (value) { s.put(value); });
    });
  }

  /* ---------------------------------------------------------------- state */

  var session = null; // {user, producer, locations, csrf_token}: the last one seen, kept for offline use
  var lots = []; // the open lots kept on the phone
  var lot = null; // the lot being recorded
  var editing = null; // the queued item being edited
  var photo = null; // {blob, thumb}
  var position = null; // {latitude, longitude, accuracy}
  var syncing = false;
  var signedOut = false;

  function notice(text, isError) {
    var node = $("notice");
    node.textContent = text || "";
    node.hidden = !text;
    node.className = isError ? "flash flash-error" : "flash";
  }
  function updateSignal() {
    var node = $("signal");
    node.textContent = navigator.onLine ? T.online : T.offline;
    node.className = navigator.onLine ? "signal" : "signal offline";
  }

  /* ---------------------------------------------------------------- Vietnam time */

  function vietnamNow() { // "YYYY-MM-DDTHH:MM", the value of a datetime-local field, in Vietnam (UTC+7)
    return new Date(Date.now() + 7 * 3600 * 1000).toISOString().slice(0, 16);
  }
  function showTime(iso) { // "2026-12-08T09:30:00+07:00" (always Vietnam time here) -> "08/12/2026 09:30"
    var m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(iso || "");
    return m ? m[3] + "/" + m[2] + "/" + m[1] + " " + m[4] + ":" + m[5] : "";
  }
  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  /* ---------------------------------------------------------------- the server */

  function SignedOut() {}
  function isSignIn(response) {
    return response.redirected && new URL(response.url).pathname === new URL(URLS.login, location.href).pathname;
  }
  function getJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (isSignIn(response)) throw new SignedOut();
        return response.json().then(function (data) { return { status: response.status, data: data }; });
      });
  }

  function refreshSession() { // the session and a fresh CSRF token; null when signed out or without a signal
    return getJson(URLS.session).then(function (answer) {
      if (answer.status !== 200) throw new SignedOut();
      var changed = !session || session.user.id !== answer.data.user.id;
      session = answer.data;
      signedOut = false;
      var kept = { user: session.user, producer: session.producer, locations: session.locations };
      return save("meta", { name: "session", value: kept }).then(function () {
        if (changed) { lots = []; return replaceAll("lots", []); }
      }).then(function () {
        showAccount();
        return session;
      });
    }).catch(function (error) {
      if (error instanceof SignedOut) signedOut = true;
      return null;
    });
  }

  function refreshLots() {
    if (!session) return Promise.resolve();
    return getJson(URLS.lots).then(function (answer) {
      if (answer.status !== 200) return;
      lots = answer.data.lots;
      return replaceAll("lots", lots).then(function () { search(); });
    }, function () {});
  }

  function showAccount() {
    if (!session) return;
    $("account").textContent = (session.user.name || session.user.email) + " · " + session.producer.name;
    var select = $("event-location");
    var chosen = select.value;
    while (select.options.length > 1) select.remove(1);
    session.locations.forEach(function (place) {
      select.add(new Option(place.name, String(place.id)));
    });
    select.value = chosen;
  }

  /* ---------------------------------------------------------------- picking a lot */

  var searchTimer = null;
  function matches(query) {
    var wanted = fold(query).trim();
    return lots.filter(function (item) {
      return !wanted || fold(item.lot_code).indexOf(wanted) >= 0 || fold(item.product_name).indexOf(wanted) >= 0;
    });
  }
  function showLots(list, status) {
    var node = $("lots");
    node.textContent = "";
    list.slice(0, 30).forEach(function (item) {
      var button = element("button");
      button.type = "button";
      button.appendChild(element("strong", "", item.lot_code));
      button.appendChild(element("span", "", item.product_name));
      var details = fill(T.left, { left: formatNumber(item.quantity_left), unit: item.unit_name });
      if (item.location_name) details += " · " + item.location_name;
      button.appendChild(element("span", "muted", details));
      button.addEventListener("click", function () { choose(item); });
      var row = element("li");
      row.appendChild(button);
      node.appendChild(row);
    });
    $("lots-status").textContent = status || (list.length ? "" : T.no_lots);
  }
  function formatNumber(value) {
    return Number(value).toLocaleString(document.documentElement.lang || "vi", { maximumFractionDigits: 3 });
  }
  function search() {
    var query = $("lot-search").value;
    showLots(matches(query));
    clearTimeout(searchTimer);
    if (!query.trim() || !navigator.onLine || !session) return;
    searchTimer = setTimeout(function () {
      $("lots-status").textContent = T.searching;
      getJson(URLS.lots + "?q=" + encodeURIComponent(query.trim())).then(function (answer) {
        if ($("lot-search").value !== query) return;
        var found = answer.data.lots || [];
        found.forEach(function (item) {
          if (!lots.some(function (kept) { return kept.id === item.id; })) { lots.push(item); save("lots", item); }
        });
        showLots(found);
      }, function () { showLots(matches(query), T.search_failed); });
    }, 300);
  }

  function matchKept(text) { // a scanned code among the lots kept on the phone (no signal needed)
    var path = text.trim();
    try { path = new URL(path).pathname; } catch (error) { /* not a URL: a printed code */ }
    var short = /\/t\/([A-Za-z2-7]+)\/?$/.exec(path) || /^([A-Za-z2-7]{8,32})$/.exec(path);
    if (short) {
      var code = short[1].toUpperCase();
      return lots.find(function (item) { return item.public_code === code; }) || null;
    }
    var link = /\/01\/(\d{8,14})(?:\/22\/[^/]+)?\/10\/([^/]+)/.exec(path);
    if (link) {
      var gtin = ("00000000000000" + link[1]).slice(-14);
      var lotCode;
      try { lotCode = decodeURIComponent(link[2]); } catch (error) { return null; }
      return lots.find(function (item) { return item.gtin === gtin && item.lot_code === lotCode; }) || null;
    }
    return null;
  }
  function useCode(text) {
    var kept = matchKept(text);
    if (kept) { choose(kept); return; }
    if (!navigator.onLine) { notice(T.code_not_here, true); return; }
    $("lots-status").textContent = T.looking_up;
    getJson(URLS.lookup + "?code=" + encodeURIComponent(text)).then(function (answer) {
      $("lots-status").textContent = "";
      if (answer.status === 200) {
        lots.push(answer.data.lot);
        save("lots", answer.data.lot);
        choose(answer.data.lot);
      } else {
        notice(answer.data.error ? answer.data.error.message : T.code_not_here, true);
      }
    }, function () { notice(T.code_not_here, true); });
  }

  /* ---------------------------------------------------------------- reading a QR label */

  var camera = null; // the camera's stream while scanning
  var decoder = null; // loads jsQR when the browser has no BarcodeDetector
  function qrReader() {
    if ("BarcodeDetector" in window) {
      var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      return Promise.resolve(function (source) {
        return detector.detect(source).then(function (codes) { return codes.length ? codes[0].rawValue : null; });
      });
    }
    if (!decoder) {
      decoder = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = URLS.qr;
        script.onload = function () { resolve(window.jsQR); };
        script.onerror = reject;
        document.head.appendChild(script);
      });
    }
    return decoder.then(function (jsQR) {
      var canvas = document.createElement("canvas");
      return function (source) {
        var width = source.videoWidth || source.width;
        var height = source.videoHeight || source.height;
        if (!width || !height) return Promise.resolve(null);
        var scale = Math.min(1, 800 / Math.max(width, height));
        canvas.width = Math.round(width * scale);
        canvas.height = Math.round(height * scale);
        var context = canvas.getContext("2d", { willReadFrequently: true });
        context.drawImage(source, 0, 0, canvas.width, canvas.height);
        var pixels = context.getImageData(0, 0, canvas.width, canvas.height);
        var code = jsQR(pixels.data, canvas.width, canvas.height, { inversionAttempts: "attemptBoth" });
        return Promise.resolve(code ? code.data : null);
      };
    });
  }
  function stopCamera() {
    if (camera) camera.getTracks().forEach(function (track) { track.stop(); });
    camera = null;
    $("camera").hidden = true;
  }
  function startCamera() {
    notice("");
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { notice(T.camera_failed, true); return; }
    var video = $("camera-video");
    $("camera").hidden = false;
    $("camera-status").textContent = T.camera_hint;
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (stream) {
        camera = stream;
        video.srcObject = stream;
        return Promise.all([video.play(), qrReader()]);
      })
      .then(function (results) {
        var read = results[1];
        var look = function () {
          if (!camera) return;
          read(video).then(function (text) {
            if (text) { stopCamera(); useCode(text); } else { setTimeout(look, 250); }
          }, function () { setTimeout(look, 500); });
        };
        look();
      })
      .catch(function () { stopCamera(); notice(T.camera_failed, true); });
  }
  function scanPicture(file) {
    if (!file) return;
    notice("");
    Promise.all([decodeImage(file), qrReader()]).then(function (results) {
      return results[1](results[0]);
    }).then(function (text) {
      if (text) useCode(text); else notice(T.no_code, true);
    }, function () { notice(T.no_code, true); });
  }

  /* ---------------------------------------------------------------- photos, compressed here */

  function decodeImage(file) {
    if (window.createImageBitmap) {
      return createImageBitmap(file, { imageOrientation: "from-image" }).catch(function () { return viaImage(file); });
    }
    return viaImage(file);
  }
  function viaImage(file) { // a data: URL, which the page's Content-Security-Policy allows for images
    return new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onload = function () {
        var image = new Image();
        image.onload = function () { resolve(image); };
        image.onerror = reject;
        image.src = reader.result;
      };
      reader.onerror = reject;
      reader.readAsDataURL(file);
    });
  }
  function drawn(image, side) {
    var width = image.width || image.naturalWidth;
    var height = image.height || image.naturalHeight;
    var scale = Math.min(1, side / Math.max(width, height));
    var canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(width * scale));
    canvas.height = Math.max(1, Math.round(height * scale));
    canvas.getContext("2d").drawImage(image, 0, 0, canvas.width, canvas.height);
    return canvas;
  }
  function jpeg(canvas, quality) {
    return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", quality); });
  }
  function compress(file) {
    return decodeImage(file).then(function (image) {
      var side = PHOTO_MAX_SIDE;
      var quality = 0.82;
      var attempt = function (tries) {
        return jpeg(drawn(image, side), quality).then(function (blob) {
          if (!blob) throw new Error("no JPEG");
          if (blob.size <= PHOTO_MAX_BYTES || tries >= 6) return blob;
          if (quality > 0.6) quality -= 0.1; else side = Math.round(side * 0.75);
          return attempt(tries + 1);
        });
      };
      return attempt(0).then(function (blob) {
        var thumb = drawn(image, THUMB_SIDE).toDataURL("image/jpeg", 0.7);
        if (image.close) image.close();
        return { blob: blob, thumb: thumb };
      });
    });
  }
  function showPhoto() {
    var preview = $("photo-preview");
    preview.hidden = !photo;
    if (photo) preview.src = photo.thumb; else preview.removeAttribute("src");
    $("photo-status").textContent = photo ? fill(T.photo_ready, { size: Math.max(1, Math.round(photo.blob.size / 1024)) }) : "";
  }

  /* ---------------------------------------------------------------- the phone's position */

  function locate() {
    position = null;
    var status = $("position-status");
    if (!$("event-position").checked) { status.textContent = ""; return; }
    if (!navigator.geolocation) { status.textContent = T.no_position; return; }
    status.textContent = T.locating;
    navigator.geolocation.getCurrentPosition(function (found) {
      position = {
        latitude: found.coords.latitude,
        longitude: found.coords.longitude,
        accuracy: found.coords.accuracy,
      };
      status.textContent = fill(T.located, { metres: Math.round(found.coords.accuracy) });
    }, function () {
      status.textContent = T.no_position;
    }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
  }

  /* ---------------------------------------------------------------- recording an event */

  function choose(chosen, item) {
    lot = chosen;
    editing = item || null;
    notice("");
    $("pick").hidden = true;
    $("record").hidden = false;
    $("lot-code").textContent = chosen.lot_code;
    $("lot-product").textContent = chosen.product_name;
    $("lot-left").textContent = fill(T.left, { left: formatNumber(chosen.quantity_left), unit: chosen.unit_name });
    $("unit-name").textContent = "(" + chosen.unit_name + ")";
    var form = $("event-form");
    form.reset();
    clearErrors();
    var now = vietnamNow();
    $("event-time").max = now;
    $("event-quantity").max = chosen.quantity_left > 0 ? String(chosen.quantity_left) : "";
    if (item) {
      $("event-type").value = item.type;
      $("event-time").value = item.time.slice(0, 16);
      $("event-location").value = item.locationId || "";
      $("event-quantity").value = item.quantity || "";
      $("event-note").value = item.note || "";
      photo = item.photo ? { blob: item.photo, thumb: item.thumb } : null;
      position = item.position || null;
      $("event-position").checked = !!position;
      $("position-status").textContent = position ? fill(T.located, { metres: Math.round(position.accuracy || 0) }) : "";
      if (item.error) showErrors(item.error);
    } else {
      $("event-time").value = now;
      $("event-location").value = chosen.location_id ? String(chosen.location_id) : "";
      photo = null;
      $("event-position").checked = localStorage.getItem("field-position") !== "off";
      locate();
    }
    showPhoto();
    $("event-type").focus();
  }
  function backToLots() {
    lot = null;
    editing = null;
    $("record").hidden = true;
    $("pick").hidden = false;
    search();
  }
  function clearErrors() {
    $("form-error").hidden = true;
    Array.prototype.forEach.call(document.querySelectorAll("#event-form .invalid"), function (node) {
      node.classList.remove("invalid");
      node.removeAttribute("aria-invalid");
    });
  }
  function showErrors(error) {
    var form = $("event-form");
    $("form-error").textContent = errorText(error);
    $("form-error").hidden = false;
    Object.keys(error.fields || {}).forEach(function (name) {
      var input = form.elements[name] || (name === "photo" ? $("event-photo") : null);
      if (input) { input.classList.add("invalid"); input.setAttribute("aria-invalid", "true"); }
    });
  }
  function submit(event) {
    event.preventDefault();
    clearErrors();
    if (!lot) { notice(T.choose_lot, true); return; }
    var invalid = ["event-type", "event-time", "event-quantity", "event-note"].filter(function (id) {
      return !$(id).checkValidity() || (id === "event-time" && !$(id).value);
    });
    if (invalid.length) {
      invalid.forEach(function (id) { $(id).classList.add("invalid"); $(id).setAttribute("aria-invalid", "true"); });
      $("form-error").textContent = T.fix_fields;
      $("form-error").hidden = false;
      $(invalid[0]).focus();
      return;
    }
    localStorage.setItem("field-position", $("event-position").checked ? "on" : "off");
    var item = editing || { key: newKey(), createdAt: Date.now() };
    item.userId = session ? session.user.id : null;
    item.email = session ? session.user.email : "";
    item.lot = lot;
    item.type = $("event-type").value;
    item.time = $("event-time").value.slice(0, 16) + ":00+07:00";
    item.locationId = $("event-location").value;
    item.locationName = $("event-location").selectedIndex > 0 ? $("event-location").selectedOptions[0].textContent : "";
    item.quantity = $("event-quantity").value;
    item.note = $("event-note").value.trim();
    item.photo = photo ? photo.blob : null;
    item.thumb = photo ? photo.thumb : null;
    item.position = $("event-position").checked ? position : null;
    item.state = "queued";
    item.error = null;
    save("queue", item).then(function () {
      var chosen = lot;
      showQueue();
      choose(chosen); // ready for the next event of the same lot
      notice(T.saved);
      if (navigator.onLine) sync();
    });
  }

  /* ---------------------------------------------------------------- the queue */

  function errorText(error) {
    if (!error) return "";
    if (error.code === "idempotency_key_reused") return T.key_reused;
    var lines = [error.message];
    Object.keys(error.fields || {}).forEach(function (name) {
      var text = (T.fields[name] || name) + ": " + error.fields[name];
      if (lines.indexOf(text) < 0 && error.fields[name] !== error.message) lines.push(text);
    });
    return lines.join(" · ");
  }
  function describe(item) {
    var parts = [showTime(item.time)];
    if (item.quantity) parts.push(formatNumber(item.quantity) + " " + item.lot.unit_name);
    if (item.locationName) parts.push(item.locationName);
    return parts.join(" · ");
  }
  function rowHead(row, title, state, meta, thumb) {
    var head = element("div", "head");
    if (thumb) {
      var image = element("img");
      image.src = thumb;
      image.alt = "";
      head.appendChild(image);
    }
    var text = element("div", "text");
    text.appendChild(element("span", "what", title));
    text.appendChild(element("span", "meta", meta));
    head.appendChild(text);
    head.appendChild(element("span", "state", state));
    row.appendChild(head);
  }
  function queueRow(item) {
    var row = element("li", item.state);
    row.dataset.key = item.key;
    rowHead(row, item.lot.lot_code + " · " + (T.event_types[item.type] || item.type), T[item.state] || item.state,
      describe(item), item.thumb);
    var mine = !session || item.userId === null || item.userId === session.user.id;
    if (!mine) row.appendChild(element("p", "problem", fill(T.other_account, { email: item.email })));
    if (item.error) row.appendChild(element("p", "problem", errorText(item.error)));
    if (item.state !== "sending") {
      var actions = element("div", "actions");
      if (mine) {
        var edit = element("button", "secondary", T.edit);
        edit.type = "button";
        edit.addEventListener("click", function () { choose(item.lot, item); window.scrollTo(0, 0); });
        actions.appendChild(edit);
      }
      if (item.state === "failed" && mine) {
        var retry = element("button", "secondary", T.retry);
        retry.type = "button";
        retry.addEventListener("click", function () {
          item.state = "queued";
          item.error = null;
          save("queue", item).then(function () { showQueue(); sync(); });
        });
        actions.appendChild(retry);
      }
      var drop = element("button", "secondary", T.remove);
      drop.type = "button";
      drop.addEventListener("click", function () {
        if (!window.confirm(T.confirm_remove)) return;
        remove("queue", item.key).then(showQueue);
      });
      actions.appendChild(drop);
      row.appendChild(actions);
    }
    return row;
  }
  function showQueue() {
    return Promise.all([all("queue"), read("meta", "sent")]).then(function (results) {
      var items = results[0].sort(function (a, b) { return a.createdAt - b.createdAt; });
      var list = $("queue");
      list.textContent = "";
      items.forEach(function (item) { list.appendChild(queueRow(item)); });
      $("queue-count").textContent = String(items.length);
      var sent = (results[1] && results[1].value) || [];
      var done = $("sent");
      done.textContent = "";
      sent.forEach(function (entry) {
        var row = element("li", "sent-item");
        rowHead(row, entry.lot_code + " · " + (T.event_types[entry.type] || entry.type),
          entry.replayed ? T.replayed : T.sent, showTime(entry.time), null);
        done.appendChild(row);
      });
      return items;
    });
  }
  function remember(item, answer, replayed) {
    return read("meta", "sent").then(function (kept) {
      var sent = (kept && kept.value) || [];
      sent.unshift({ key: item.key, id: answer.id, lot_code: item.lot.lot_code, type: item.type, time: item.time, replayed: replayed });
      return save("meta", { name: "sent", value: sent.slice(0, SENT_KEPT) });
    });
  }

  function send(item) {
    var form = new FormData();
    form.append("batch_id", String(item.lot.id));
    form.append("type", item.type);
    form.append("time", item.time);
    form.append("location_id", item.locationId || "");
    form.append("quantity", item.quantity || "");
    form.append("note", item.note || "");
    if (item.position) {
      form.append("latitude", String(item.position.latitude));
      form.append("longitude", String(item.position.longitude));
      form.append("position_accuracy", String(item.position.accuracy));
    }
    if (item.photo) form.append("photo", item.photo, "photo.jpg");
    return fetch(URLS.events, {
      method: "POST",
      body: form,
      credentials: "same-origin",
      headers: { "Idempotency-Key": item.key, "X-CSRFToken": session.csrf_token, Accept: "application/json" },
    }).then(function (response) {
      if (isSignIn(response)) return { kind: "signed_out" };
      var json = (response.headers.get("Content-Type") || "").indexOf("json") >= 0;
      if (response.status === 200 || response.status === 201) {
        return response.json().then(function (answer) {
          return { kind: "stored", answer: answer, replayed: response.headers.get("Idempotent-Replayed") === "true" };
        });
      }
      if (response.status === 429 || response.status >= 500) return { kind: "busy" };
      if (json) return response.json().then(function (data) { return { kind: "refused", error: data.error }; });
      if (response.status === 400) return { kind: "csrf" }; // the CSRF check's page: a new token, once
      return { kind: "signed_out" }; // no longer a producer's session
    }, function () {
      return { kind: "offline" };
    });
  }

  function status(text) { $("sync-status").textContent = text || ""; }

  function sendAll() {
    if (!navigator.onLine) { status(T.no_signal); return Promise.resolve(); }
    return refreshSession().then(function (current) {
      if (!current) { status(signedOut ? T.signed_out : T.no_signal); return; }
      return all("queue").then(function (items) {
        var waiting = items.filter(function (item) {
          // An event recorded before the phone ever knew who was signed in is the first account's to send.
          if (item.userId === null) { item.userId = current.user.id; item.email = current.user.email; }
          return item.userId === current.user.id && (item.state === "queued" || item.state === "sending");
        }).sort(function (a, b) { return a.createdAt - b.createdAt; });
        var next = function (index, renewed) {
          if (index >= waiting.length) return true;
          var item = waiting[index];
          item.state = "sending";
          return save("queue", item).then(showQueue).then(function () { return send(item); }).then(function (result) {
            if (result.kind === "csrf" && !renewed) {
              return refreshSession().then(function () { return next(index, true); });
            }
            if (result.kind === "stored") {
              return remove("queue", item.key).then(function () {
                return remember(item, result.answer, result.replayed);
              }).then(function () { return next(index + 1, false); });
            }
            if (result.kind === "refused" || result.kind === "csrf") {
              item.state = "failed";
              item.error = result.error || { message: T.signed_out, fields: {} };
              return save("queue", item).then(function () { return next(index + 1, false); });
            }
            item.state = "queued";
            return save("queue", item).then(function () {
              status(result.kind === "offline" ? T.no_signal : result.kind === "busy" ? T.server_busy : T.signed_out);
              if (result.kind === "signed_out") signedOut = true;
              return false;
            });
          });
        };
        return next(0, false).then(function (finished) {
          if (!finished) return;
          return all("queue").then(function (left) {
            status(left.length ? "" : T.all_sent);
            return refreshLots();
          });
        });
      });
    });
  }

  function sync() {
    if (syncing) return Promise.resolve();
    syncing = true;
    var run = function () { return sendAll(); };
    // One sync at a time across the app's open tabs too; the server would store each event once anyway.
    var locked = navigator.locks ? navigator.locks.request("field-sync", run) : run();
    return Promise.resolve(locked).catch(function () {
      status(T.server_busy);
    }).then(function () {
      syncing = false;
      showAccount();
      if (signedOut) showSignIn();
      return showQueue();
    });
  }
  function showSignIn() {
    var link = element("a", "", T.signed_out);
    link.href = URLS.login;
    var node = $("sync-status");
    node.textContent = "";
    node.appendChild(link);
  }

  /* ---------------------------------------------------------------- start */

  function start() {
    updateSignal();
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register(URLS.sw, { scope: URLS.scope }).catch(function () {});
    }
    window.addEventListener("online", function () { updateSignal(); sync(); });
    window.addEventListener("offline", updateSignal);
    $("lot-search").addEventListener("input", search);
    $("scan").addEventListener("click", startCamera);
    $("camera-stop").addEventListener("click", stopCamera);
    $("scan-photo").addEventListener("change", function () { scanPicture(this.files[0]); this.value = ""; });
    $("change-lot").addEventListener("click", backToLots);
    $("cancel").addEventListener("click", backToLots);
    $("event-form").addEventListener("submit", submit);
    $("event-position").addEventListener("change", locate);
    $("event-photo").addEventListener("change", function () {
      var file = this.files[0];
      if (!file) return;
      $("photo-status").textContent = "…";
      compress(file).then(function (result) { photo = result; showPhoto(); }, function () {
        photo = null;
        showPhoto();
        $("photo-status").textContent = T.photo_failed;
      });
    });
    $("sync").addEventListener("click", function () { sync(); });
    setInterval(function () {
      if (navigator.onLine && !syncing) all("queue").then(function (items) {
        if (items.some(function (item) { return item.state === "queued"; })) sync();
      });
    }, RETRY_MS);

    read("meta", "session").then(function (kept) {
      if (kept) { session = kept.value; showAccount(); }
      return all("lots");
    }).then(function (kept) {
      lots = kept || [];
      search();
      return showQueue();
    }).then(function () {
      if (!navigator.onLine) return;
      return refreshSession().then(function (current) {
        if (current) return refreshLots().then(sync);
        if (signedOut) showSignIn();
      });
    }).then(function () {
      body.dataset.ready = "true";
    });
  }

  start();
})();
