/* certdialog: the SSL/TLS Certificates dialog.  Speaks only /api/certificate*. */
'use strict';

(function () {
  const API = '/api/certificate';

  /* The vendor's troubleshooting recommendations, and ours for our codes. */
  const RECOMMEND = {
    passphrase_mismatch: 'Validate that you typed the correct passphrase. If the problem continues, try recreating the certificate using the correct passphrase.',
    chain_untrusted: 'Make sure the .pem file correlates to the .crt file. If the problem continues, try recreating the certificate using the correct chain of trust (defined by the .pem file).',
    expired: 'Create a new certificate with valid dates.',
    revoked: 'Create a new unrevoked certificate.',
    crl_unreachable: 'Make sure that your network configuration allows the appliance to reach the CRL Server defined in the certificate. You can use a proxy server if there are limitations in establishing a direct connection.',
    validation_failed: 'This indicates a general error in the appliance. Contact support.',
    key_mismatch: 'Upload the private key that was created together with this certificate.',
    not_yet_valid: 'Wait until the Valid From date, or create a certificate that is valid now.',
    weak_key: 'Create the certificate with an RSA key of 2048 or 4096 bits.',
    signature_algorithm: 'Have the certificate signed with SHA256RSA (sha256WithRSAEncryption).',
    subject_incomplete: 'Create the certificate with C, O, OU and CN in its Subject.',
    wildcard_cn: "Create a certificate for this appliance's own name; wildcard certificates are not supported.",
    not_server_cert: 'Use a server (end-entity) certificate whose extended key usage includes TLS Web Server Authentication.',
    crl_not_http: 'Define an http:// CRL Distribution Point in the certificate, or turn off Use CRL.',
    crl_invalid: 'Ask the CA to publish a current CRL signed with its key.',
    unreadable_key: 'Upload the private key file (.key) in PEM or DER format.',
    unreadable_crt: 'Upload the certificate file (.crt or .cer) in PEM or DER format.',
    unreadable_chain: 'Upload the chain as a .pem file holding the CA certificates.',
    passphrase_charset: 'Use only letters, digits and the listed punctuation in the passphrase.',
    missing_field: 'Fill in the field.',
    bad_name: 'Use 1 to 64 letters, digits, spaces, dots, underscores or hyphens.',
    name_mismatch: "Add this appliance's name to the certificate's Subject Alternative Names, or reach the appliance by a name the certificate carries.",
    no_crl_dp: 'The certificate cannot be checked for revocation.',
    expires_soon: 'Plan the replacement now.',
    chain_extra: 'The extra certificates are ignored.'
  };

  const $ = (id) => document.getElementById(id);
  const form = $('upload');
  const result = $('result');
  const progress = $('progress');
  let busy = false;

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v; else e.setAttribute(k, v);
    }
    for (const k of kids) if (k != null) e.append(k);
    return e;
  }

  function fmtDate(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    return isNaN(d) ? iso : d.toUTCString().replace('GMT', 'UTC');
  }

  function details(dl, c) {
    dl.replaceChildren();
    const rows = [
      ['Name', c.name], ['Subject', c.subject], ['Common name (CN)', c.subject_cn],
      ['Issuer', c.issuer], ['Valid from', fmtDate(c.not_before)],
      ['Valid to', fmtDate(c.not_after)], ['Days left', String(c.days_left)],
      ['Key', c.key_type ? c.key_type + ' ' + c.key_bits + ' bits' : ''],
      ['Signature algorithm', c.signature_algorithm],
      ['SHA-256 fingerprint', c.sha256_fingerprint],
      ['Names (SAN)', (c.san || []).join(', ')],
      ['Type', c.self_signed ? 'Self-signed' : 'CA-signed'],
      ['Installed', fmtDate(c.installed_at)]
    ];
    for (const [k, v] of rows) {
      if (v === undefined || v === null || v === '' || v === 'undefined') continue;
      dl.append(el('dt', {}, k),
        el('dd', k.startsWith('SHA') ? { class: 'mono' } : {}, v));
    }
    dl.hidden = false;
  }

  /* The page's own address against the names the certificate carries. */
  function nameCheck(c) {
    const w = $('name-warning');
    const host = location.hostname.replace(/^\[|\]$/g, '');
    const names = (c.san || []).map((s) => s.replace(/^(DNS|IP):/, '').toLowerCase());
    const match = names.some((n) => n === host.toLowerCase() ||
      (n.startsWith('*.') && host.toLowerCase().endsWith(n.slice(1))));
    if (match || names.length === 0 && c.subject_cn === host) { w.hidden = true; return; }
    w.replaceChildren(
      'This page was reached as ', el('strong', {}, host),
      ', but the certificate is issued for ',
      el('strong', {}, names.length ? names.join(', ') : (c.subject_cn || 'no name')),
      '. Browsers show NET::ERR_CERT_COMMON_NAME_INVALID. Reach the appliance by one of those names (for example through the hosts file or DNS), or install a certificate that names ' + host + '.');
    w.hidden = false;
  }

  function showCurrent(data) {
    const c = data && data.certificate;
    $('current-empty').hidden = !!c;
    $('current-empty').textContent = c ? '' : 'No certificate is installed.';
    const exp = $('expiry-warning');
    if (c) {
      details($('current-details'), c);
      if (c.days_left < 0) {
        exp.className = 'banner err';
        exp.textContent = 'The certificate expired on ' + fmtDate(c.not_after) + '. Replace it below.';
        exp.hidden = false;
      } else if (c.days_left < 30) {
        exp.className = 'banner warn';
        exp.textContent = 'The certificate expires in ' + c.days_left + ' days (' + fmtDate(c.not_after) + '). Replace it below.';
        exp.hidden = false;
      } else exp.hidden = true;
      nameCheck(c);
    }
    const tb = $('history').tBodies[0];
    tb.replaceChildren();
    for (const h of (data && data.history) || []) {
      tb.append(el('tr', {}, el('td', {}, h.name), el('td', {}, h.mode),
        el('td', {}, fmtDate(h.installed_at)), el('td', {}, h.current ? 'Current' : '')));
    }
    $('rollback').disabled = ((data && data.history) || []).length < 2;
  }

  async function loadCurrent() {
    try {
      const r = await fetch(API, { credentials: 'same-origin', cache: 'no-store' });
      showCurrent(await r.json());
    } catch (e) {
      $('current-empty').textContent = 'The current certificate cannot be read: ' + e.message;
    }
  }

  function mode() { return form.querySelector('input[name=mode]:checked').value; }

  function syncMode() {
    const ss = mode() === 'self-signed';
    $('ca-fields').hidden = ss;
    $('ss-fields').hidden = !ss;
    $('test').hidden = ss;
  }

  function clearErrors() {
    for (const p of form.querySelectorAll('.error')) p.replaceChildren();
    for (const f of form.querySelectorAll('.field.invalid')) f.classList.remove('invalid');
  }

  function finding(f, cls) {
    const li = el('li', { class: cls, 'data-code': f.code }, f.message);
    if (f.detail) li.append(el('span', { class: 'rec' }, f.detail));
    const rec = RECOMMEND[f.code];
    if (rec) li.append(el('span', { class: 'rec' }, rec));
    return li;
  }

  function showFindings(data) {
    const errs = data.errors || [], warns = data.warnings || [];
    const box = el('div', { class: 'banner ' + (data.ok ? 'ok' : 'err') });
    for (const f of errs) {
      const target = f.field && document.getElementById('e-' + f.field);
      if (target) {
        target.append(finding(f, 'error-item'));
        target.closest('.field').classList.add('invalid');
      }
    }
    if (errs.length) {
      box.append(el('strong', {}, errs.length === 1 ? 'The upload was refused:' : 'The upload was refused for ' + errs.length + ' reasons:'));
      box.append(el('ul', {}, ...errs.map((f) => finding(f, 'error-item'))));
    }
    if (warns.length) {
      const w = el('div', { class: 'banner warn' }, el('strong', {}, 'Warnings'));
      w.append(el('ul', {}, ...warns.map((f) => finding(f, 'warning'))));
      return [box, w];
    }
    return [box];
  }

  function send(url, fd) {
    return new Promise((resolve, reject) => {
      const x = new XMLHttpRequest();
      x.open('POST', url);
      x.responseType = 'json';
      x.upload.onprogress = (e) => {
        if (e.lengthComputable) progress.value = Math.round(100 * e.loaded / e.total);
      };
      x.onload = () => resolve({ status: x.status, data: x.response || {} });
      x.onerror = () => reject(new Error('the appliance did not answer'));
      x.send(fd);
    });
  }

  function formData() {
    const fd = new FormData();
    fd.append('mode', mode());
    if (mode() === 'self-signed') {
      if ($('f-confirm').checked) fd.append('confirm', 'yes');
      return fd;
    }
    fd.append('name', $('f-name').value);
    if ($('f-passphrase').value) fd.append('passphrase', $('f-passphrase').value);
    for (const f of ['key', 'crt', 'chain']) {
      const file = $('f-' + f).files[0];
      if (file) fd.append(f, file, file.name);
    }
    fd.append('use_crl', $('f-use-crl').checked ? 'on' : 'off');
    fd.append('validation', form.querySelector('input[name=validation]:checked').value);
    return fd;
  }

  async function submit(dry) {
    if (busy) return;
    busy = true;
    clearErrors();
    result.replaceChildren(el('p', {}, dry ? 'Testing…' : 'Uploading…'));
    progress.hidden = false;
    progress.value = 0;
    $('save').disabled = $('test').disabled = true;
    try {
      const { data } = await send(dry ? API + '/validate' : API, formData());
      const parts = showFindings(data);
      if (data.ok) {
        const head = dry ? 'The files passed every check. Nothing was installed.'
          : 'The certificate was installed.';
        parts[0].replaceChildren(el('strong', {}, head));
        if (!dry && data.reload) {
          parts[0].append(el('p', {}, data.reload.ok
            ? 'The web server reloaded: new connections use the new certificate.'
            : 'The web server did not reload (' + data.reload.detail + '). The certificate is used after the next restart.'));
        }
        if (data.certificate) {
          const dl = el('dl', { class: 'details' });
          details(dl, data.certificate);
          parts[0].append(dl);
        }
      }
      result.replaceChildren(...parts);
      if (!dry && data.ok) await loadCurrent();
    } catch (e) {
      result.replaceChildren(el('div', { class: 'banner err' }, 'Certificate validation failed: ' + e.message));
    } finally {
      busy = false;
      progress.hidden = true;
      $('save').disabled = $('test').disabled = false;
    }
  }

  async function rollback() {
    result.replaceChildren(el('p', {}, 'Rolling back…'));
    try {
      const { data } = await send(API + '/rollback', new FormData());
      if (data.ok) {
        result.replaceChildren(el('div', { class: 'banner ok' }, 'The previous certificate is active again.'));
      } else {
        result.replaceChildren(...showFindings(data));
      }
      await loadCurrent();
    } catch (e) {
      result.replaceChildren(el('div', { class: 'banner err' }, e.message));
    }
  }

  /* Drag and drop onto a file field. */
  for (const field of form.querySelectorAll('.field.file')) {
    const input = field.querySelector('input[type=file]');
    field.addEventListener('dragover', (e) => { e.preventDefault(); field.classList.add('drag'); });
    field.addEventListener('dragleave', () => field.classList.remove('drag'));
    field.addEventListener('drop', (e) => {
      e.preventDefault();
      field.classList.remove('drag');
      if (e.dataTransfer.files.length) input.files = e.dataTransfer.files;
    });
  }

  for (const r of form.querySelectorAll('input[name=mode]')) r.addEventListener('change', syncMode);
  form.addEventListener('submit', (e) => { e.preventDefault(); submit(false); });
  $('test').addEventListener('click', () => submit(true));
  $('rollback').addEventListener('click', rollback);
  syncMode();
  loadCurrent();
})();
