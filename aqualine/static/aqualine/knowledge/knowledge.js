/* Knowledge base: a small rich-text editor (contenteditable + execCommand, no library) that
   keeps the form's <textarea> in step, and the highlighting of search terms in an article.
   The server sanitises every body it saves (nh3); the cleaning here only keeps the editor
   itself from running anything while someone edits. Without JavaScript the textarea is used. */
(function () {
  "use strict";

  var DROP = "script,style,iframe,object,embed,link,meta,base,form,input,button,textarea,select,svg,math,template,noscript";

  // Parse HTML in an inert document (nothing runs, nothing loads), drop active content.
  function inertClean(html) {
    var doc = new DOMParser().parseFromString("<body>" + html + "</body>", "text/html");
    doc.body.querySelectorAll(DROP).forEach(function (el) { el.remove(); });
    doc.body.querySelectorAll("*").forEach(function (el) {
      Array.prototype.slice.call(el.attributes).forEach(function (attr) {
        var name = attr.name.toLowerCase();
        var value = attr.value.replace(/[\s\u0000-\u001f]+/g, "").toLowerCase();
        if (name.indexOf("on") === 0 || name === "style" || name === "srcdoc" ||
            ((name === "href" || name === "src") && /^(javascript|data|vbscript):/.test(value))) {
          el.removeAttribute(attr.name);
        }
      });
    });
    return doc.body.innerHTML;
  }

  function setupEditor(textarea) {
    var toolbar = document.querySelector("[data-kb-toolbar]");
    if (!toolbar || !document.execCommand) return;
    var editor = document.createElement("div");
    editor.className = "kb-editor kb-body";
    editor.contentEditable = "true";
    editor.setAttribute("role", "textbox");
    editor.setAttribute("aria-multiline", "true");
    var label = document.querySelector("label[for='" + textarea.id + "']");
    editor.setAttribute("aria-label", label ? label.textContent.trim() : "");
    editor.innerHTML = inertClean(textarea.value);
    textarea.parentNode.insertBefore(editor, textarea.nextSibling);
    textarea.hidden = true;
    toolbar.hidden = false;
    textarea.closest(".field").classList.add("kb-editing");
    if (label) label.addEventListener("click", function () { editor.focus(); });
    try { document.execCommand("defaultParagraphSeparator", false, "p"); } catch (e) { /* old */ }

    var source = false;
    function sync() { if (!source) textarea.value = editor.innerHTML; }
    editor.addEventListener("input", sync);
    textarea.form.addEventListener("submit", sync);

    function caretInEditor() {
      var sel = window.getSelection();
      if (sel.rangeCount && editor.contains(sel.getRangeAt(0).commonAncestorContainer)) return;
      editor.focus();
      var range = document.createRange();
      range.selectNodeContents(editor);
      range.collapse(false);
      sel.removeAllRanges();
      sel.addRange(range);
    }

    function run(command, value) {
      caretInEditor();
      document.execCommand(command, false, value);
      sync();
    }

    // Keep the selection in the editor when a toolbar button is pressed.
    toolbar.addEventListener("mousedown", function (event) {
      if (event.target.closest("button")) event.preventDefault();
    });
    toolbar.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-cmd]");
      if (!button) return;
      var cmd = button.getAttribute("data-cmd");
      var value = button.getAttribute("data-value");
      if (cmd === "source") {
        source = !source;
        if (source) {
          textarea.value = editor.innerHTML;
        } else {
          editor.innerHTML = inertClean(textarea.value);
        }
        textarea.hidden = !source;
        editor.hidden = source;
        button.setAttribute("aria-pressed", String(source));
        toolbar.querySelectorAll("button[data-cmd]").forEach(function (b) {
          if (b !== button) b.disabled = source;
        });
        (source ? textarea : editor).focus();
        return;
      }
      if (cmd === "link") {
        var url = window.prompt(button.getAttribute("data-prompt"), "https://");
        if (url && /^(https?:\/\/|mailto:|tel:|\/)/i.test(url.trim())) run("createLink", url.trim());
        return;
      }
      if (cmd === "table") {
        var size = window.prompt(button.getAttribute("data-prompt"), "3x2") || "";
        var match = size.match(/^\s*(\d{1,2})\s*[x×*,，]\s*(\d{1,2})\s*$/i);
        if (!match) return;
        var rows = Math.max(1, +match[1]), cols = Math.max(1, +match[2]), html = "<table><tbody>";
        for (var r = 0; r < rows; r++) {
          html += "<tr>";
          for (var c = 0; c < cols; c++) html += r === 0 ? "<th><br></th>" : "<td><br></td>";
          html += "</tr>";
        }
        run("insertHTML", html + "</tbody></table><p><br></p>");
        return;
      }
      if (cmd === "formatBlock") value = "<" + value + ">";
      run(cmd, value);
    });

    document.querySelectorAll("[data-kb-insert-image]").forEach(function (button) {
      button.addEventListener("click", function () {
        if (source) return;
        run("insertImage", button.getAttribute("data-kb-insert-image"));
      });
    });
  }

  // Mark the search terms (?q=) in an article opened from the search results.
  function markTerms(root, terms) {
    terms = terms.map(function (t) { return t.toLowerCase(); }).filter(Boolean);
    if (!terms.length) return;
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    var nodes = [];
    while (walker.nextNode()) nodes.push(walker.currentNode);
    nodes.forEach(function (node) {
      for (var guard = 0; node && guard < 200; guard++) {
        var text = node.nodeValue.toLowerCase(), best = -1, length = 0;
        terms.forEach(function (t) {
          var i = text.indexOf(t);
          if (i !== -1 && (best === -1 || i < best)) { best = i; length = t.length; }
        });
        if (best === -1) return;
        var hit = node.splitText(best);
        node = hit.splitText(length);
        var mark = document.createElement("mark");
        mark.textContent = hit.nodeValue;
        hit.parentNode.replaceChild(mark, hit);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var textarea = document.querySelector("textarea.kb-source");
    if (textarea) setupEditor(textarea);
    var body = document.querySelector("[data-kb-highlight]");
    if (body) markTerms(body, (body.getAttribute("data-kb-highlight") || "").split(/\s+/));
  });
})();
