/* certdialog: the SSL/TLS Certificates dialog.  Speaks /api/session* (sign-in),
 * /api/tokens* and /api/certificate* (docs/API.md).
 * No framework, no inline script (the CSP allows script-src 'self' only). */
'use strict';

(function () {
  const API = '/api/certificate';

  /* The vendor's troubleshooting table, word for word, for its six messages;
   * ours for our codes.  A code may have one text per field. */
  const RECOMMEND = {
    passphrase_mismatch: 'Validate that you typed the correct passphrase. If the problem continues, try recreating the certificate using the correct passphrase.',
    chain_untrusted: 'Make sure the .pem file correlates to the .crt file. If the problem continues, try recreating the certificate using the correct chain of trust (defined by the .pem file).',
    expired: 'Create a new certificate with valid dates.',
    revoked: 'Create a new unrevoked certificate.',
    crl_unreachable: 'Make sure that your network configuration allows the appliance to reach the CRL Server defined in the certificate. You can use a proxy server if there are limitations in establishing a direct connection.',
    validation_failed: 'This indicates a general error in the appliance. Contact your appliance support with the details below.',
    key_mismatch: 'Upload the private key (.key) that was created together with this certificate: the two belong together.',
    not_yet_valid: 'Wait until the Valid From date, or create a certificate that is valid from a past date.',
    weak_key: 'Create the certificate with an RSA key of 2048 or 4096 bits.',
    signature_algorithm: 'Have the certificate signed with SHA256RSA (sha256WithRSAEncryption).',
    subject_incomplete: 'Create the certificate with C (country), O (organization), OU (organizational unit) and CN (the appliance\'s domain name) in its Subject.',
    wildcard_cn: 'Create a certificate for this appliance\'s own domain name; wildcard certificates are not supported.',
    not_server_cert: 'Upload the server (end-entity) certificate, not a CA certificate; its extended key usage must allow TLS Web Server Authentication.',
    crl_not_http: 'Define an http:// CRL Distribution Point in the certificate (another port is fine), or clear "Use CRL".',
    crl_invalid: 'Ask the certificate authority to publish a current CRL signed with its key.',
    unreadable_key: 'Upload the private key file (.key): PEM or DER, PKCS#1 or PKCS#8. Check it with: openssl rsa -in privateKey.key -check',
    unreadable_crt: 'Upload the certificate file (.crt or .cer) in PEM or DER, or a .pfx/.p12 with its passphrase. Check it with: openssl x509 -in certificate.crt -text -noout',
    unreadable_chain: 'Upload the chain as a .pem file holding the CA certificates (-----BEGIN CERTIFICATE----- blocks).',
    passphrase_charset: 'Use only letters, digits and ! # % ( ) + , - . / : = ? @ [ \\ ] ^ _ { } ~ in the passphrase. If the key\'s passphrase has other characters, re-encrypt the key with a new passphrase: openssl pkey -in old.key -aes256 -out new.key (it asks for the old passphrase, then the new one), and upload new.key.',
    missing_field: {
      name: 'Enter a Certificate Name.',
      key: 'Choose the private key file (.key).',
      crt: 'Choose the certificate file (.crt).',
      confirm: 'Tick Confirm to accept a self-signed certificate, or choose "Import trusted CA certificate".',
      '': 'Fill in the field.'
    },
    bad_name: 'Use 1 to 64 letters, digits, spaces, dots, underscores or hyphens.',
    name_mismatch: 'Browsers check the Subject Alternative Names, not the CN. Add the appliance\'s name (and IP address, if admins use it) to the certificate\'s Subject Alternative Names, or reach the appliance by a name the certificate carries.',
    no_crl_dp: 'The certificate cannot be checked for revocation. If you do not use CRLs, clear "Use CRL".',
    expires_soon: 'Plan the replacement now: request a new certificate from your certificate authority.',
    chain_extra: 'The certificates that are not on the path are ignored.',
    too_large: 'Check that you chose the right files: certificates and keys are a few kilobytes.',
    not_signed_in: 'Reload the page and sign in again.',
    forbidden: 'Sign in as an administrator.',
    no_previous_release: 'Only certificates installed earlier on this appliance can be restored: use "Make active" in the list of installed certificates.',
    no_such_release: 'Reload the page: the list of installed certificates has changed.',
    already_active: 'Reload the page: the list of installed certificates has changed.'
  };

  /* The form's labels, the one copy: the page's [data-label] elements get
   * them at start, and the result's links to a field say the same. */
  const FIELD_LABEL = {
    mode: 'Certificate source',
    name: 'Certificate Name',
    passphrase: 'Passphrase (optional)',
    key: 'Private Key (KEY file)',
    crt: 'Certificate (CRT file)',
    chain: 'Certificate Chain (PEM file, optional)',
    use_crl: 'Use CRL (Certificate Revocation List) to check certificate status',
    validation: 'Validation of certificate',
    confirm: 'Confirm: replace the current certificate with a self-signed one'
  };

  const $ = (id) => document.getElementById(id);
  const form = $('upload');
  const resultBox = $('result');
  const resultBody = $('result-body');
  let busy = false;
  let current = null;          /* last GET /api/certificate answer */

  for (const n of document.querySelectorAll('[data-label]')) n.textContent = FIELD_LABEL[n.dataset.label];

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v; else e.setAttribute(k, v === true ? '' : v);
    }
    for (const k of kids) if (k != null && k !== false) e.append(k);
    return e;
  }

  let announceTimer = 0;
  function announce(text) {
    const a = $('announce');
    a.textContent = '';
    /*
     * a fresh text node after a tick is announced even when it repeats;
     * a text still waiting for its tick is dropped, so an answer faster
     * than the tick is not followed by "Uploading…"
     */
    clearTimeout(announceTimer);
    announceTimer = setTimeout(() => { a.textContent = text; }, 50);
  }

  function fmtDate(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    if (isNaN(d)) return iso;
    try {
      return d.toLocaleString('en-GB', { timeZone: 'UTC', day: 'numeric', month: 'long',
        year: 'numeric', hour: '2-digit', minute: '2-digit' }) + ' UTC';
    } catch (e) {
      return d.toUTCString();
    }
  }

  function daysText(n) {
    if (typeof n !== 'number') return '';
    if (n < 0) return 'expired ' + (-n) + (n === -1 ? ' day' : ' days') + ' ago';
    if (n === 0) return 'expires today';
    return n + (n === 1 ? ' day' : ' days');
  }

  /* The names a certificate is valid for.  The status answer sends them
   * (certificate.names); a POST's certificate is the bare summary, whose
   * "san" holds "DNS:x" and "IP:y": the same list, made as api.c makes it
   * (SAN DNS, then SAN IP, then the CN when it is not one of them). */
  function certNames(c) {
    if (c.names) return c.names;
    const out = [];
    for (const kind of ['DNS:', 'IP:']) {
      for (const s of c.san) if (s.startsWith(kind) && s.length > kind.length) out.push(s.slice(kind.length));
    }
    const cn = c.subject_cn;
    if (cn && !out.some((n) => n.toLowerCase() === cn.toLowerCase())) out.push(cn);
    return out;
  }

  function isSelfSigned(c) { return c.self_signed; }

  /* What CRL checking did at install (the release's "crl"), for the
   * details and the history; older releases have only use_crl. */
  function crlText(r) {
    switch (r.crl) {
      case 'checked': return 'checked: the certificate is not revoked';
      case 'not_enforced': return 'fetched, but not enforced (validation None)';
      case 'no_dp': return 'not checked (the certificate names no distribution point)';
      case 'off': return r.mode === 'self-signed' ? 'not checked (self-signed)' : 'not checked (switched off)';
      default: return typeof r.use_crl === 'boolean' ? (r.use_crl ? 'checking was on' : 'not checked (switched off)') : '';
    }
  }

  /* A date without the time: when a certificate expires. */
  function fmtDay(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    if (isNaN(d)) return iso;
    try {
      return d.toLocaleDateString('en-GB', { timeZone: 'UTC', day: 'numeric', month: 'short', year: 'numeric' });
    } catch (e) {
      return iso.slice(0, 10);
    }
  }

  /* "2 Dec 2026 03:52": a short UTC time for the history's cells. */
  function fmtShort(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    if (isNaN(d)) return iso;
    return fmtDay(iso) + ' ' + d.toISOString().slice(11, 16);
  }

  /* A DNS host name a link may be built from: letters, digits and hyphens
   * in dot-separated labels of 1 to 63, at most 253 in all, no wildcard
   * (a SAN "evil.example/#" would make the link lead elsewhere). */
  function isHostName(n) {
    if (typeof n !== 'string' || !n.length || n.length > 253) return false;
    return n.split('.').every((l) => /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l)) && !/^[0-9.]+$/.test(n);
  }

  function details(dl, c) {
    dl.replaceChildren();
    const names = certNames(c);
    const key = c.key_type ? c.key_type + (c.key_bits ? ' ' + c.key_bits + ' bits' : '') : '';
    const rows = [
      ['Name', c.name],
      ['Type', isSelfSigned(c) ? 'Self-signed (not trusted by browsers until you trust it)' : 'CA-signed'],
      ['Subject CN', c.subject_cn],
      ['Valid for names', names.join(', ')],
      ['Issuer', c.issuer],
      ['Valid from', fmtDate(c.not_before)],
      ['Valid to', fmtDate(c.not_after)],
      ['Days left', daysText(c.days_left)],
      ['Key', key],
      ['Signature algorithm', c.signature_algorithm],
      ['SHA-256 fingerprint', c.sha256_fingerprint],
      ['Subject', c.subject],
      ['Serial number', c.serial],
      ['Validation', c.validation ? (c.validation === 'none' ? 'None' : 'Mandatory') : ''],
      ['CRL', c.validation ? crlText(c) : ''],
      ['Installed', fmtDate(c.installed_at)]
    ];
    for (const [k, v] of rows) {
      if (v === undefined || v === null || v === '') continue;
      const slug = k.toLowerCase().replace(/[^a-z0-9]+/g, '-');
      dl.append(el('dt', {}, k), el('dd', {
        class: k.startsWith('SHA') || k.startsWith('Serial') ? 'mono' : null,
        'data-item': slug
      }, v));
    }
    dl.hidden = false;
  }

  function isIp(h) { return /^[0-9.]+$/.test(h) || h.includes(':'); }

  /* Copy text; navigator.clipboard where allowed, else select the text. */
  async function copyText(text, input, status) {
    try {
      if (!navigator.clipboard || !window.isSecureContext) throw new Error('no clipboard');
      await navigator.clipboard.writeText(text);
      status.textContent = 'Copied.';
    } catch (e) {
      input.focus();
      input.select();
      let ok = false;
      try { ok = document.execCommand('copy'); } catch (e2) { ok = false; }
      status.textContent = ok ? 'Copied.' : 'Selected: press Ctrl+C (Cmd+C on a Mac) to copy.';
    }
    announce(status.textContent);
  }

  /* A browser's error code, breakable after its "::" and each "_" (it is
   * wider than a phone's window). */
  function errCodeName(name) {
    const code = el('code', { class: 'errcode', id: 'name-error-code' });
    name.split(/(?<=::|_)/).forEach((part, i) => {
      if (i) code.append(el('wbr'));
      code.append(part);
    });
    return code;
  }

  /* The page's own address against the names the certificate carries
   * (NET::ERR_CERT_COMMON_NAME_INVALID), with the hosts-file way out. */
  function nameCheck(c, access) {
    const w = $('name-warning');
    if (access.matches) { w.hidden = true; return; }
    const names = certNames(c);
    /* null when the Host header had no usable host: say what the browser has */
    const address = access.address || location.hostname.replace(/^\[|\]$/g, '');
    const target = names.find((n) => !isIp(n) && !n.startsWith('*'));
    /* only a plain host name becomes a link; anything else gives none */
    const linkName = target && isHostName(target) ? target : null;
    $('name-text').replaceChildren(
      el('strong', {}, 'The certificate does not match the address you typed.'), ' ',
      'You opened this page as ', el('strong', { id: 'name-address' }, address),
      ', but the certificate is issued for ',
      el('strong', { id: 'name-cert' }, names.length ? names.join(', ') : 'no name'),
      '. That is why browsers show ', errCodeName('NET::ERR_CERT_COMMON_NAME_INVALID'),
      ' ("Your connection isn\'t private").');
    const fix = $('name-fix');
    fix.replaceChildren();
    const port = location.port ? ':' + location.port : '';
    const ways = el('ol', { class: 'ways' });
    if (linkName) {
      const line = access.hosts_line;
      const li = el('li', {}, 'Open the dialog by its name: ',
        el('a', { href: 'https://' + linkName + port + '/', id: 'name-link' }, 'https://' + linkName + port + '/'), '.');
      if (line) {
        const files = access.hosts_files;
        const input = el('input', { type: 'text', id: 'hosts-line', readonly: true, value: line,
          class: 'mono', 'aria-label': 'Line for the hosts file', size: Math.max(line.length, 10) });
        const status = el('span', { class: 'copy-status', id: 'copy-status' });
        const btn = el('button', { type: 'button', id: 'copy-hosts' }, 'Copy');
        btn.addEventListener('click', () => copyText(line, input, status));
        li.append(' If that name is not in your DNS, add this line at the end of your computer\'s hosts file:',
          el('span', { class: 'copy-row' }, input, btn, status),
          el('ul', { class: 'files' },
            el('li', {}, 'Windows: ', el('code', { id: 'hosts-windows' }, files.windows),
              ' (open Notepad as administrator)'),
            el('li', {}, 'Linux: ', el('code', { id: 'hosts-linux' }, files.linux)),
            el('li', {}, 'macOS: ', el('code', { id: 'hosts-macos' }, files.macos))));
      }
      ways.append(li);
    }
    ways.append(el('li', {}, 'Or install below a certificate whose Subject Alternative Names include ',
      el('strong', {}, address), '.'));
    fix.append(el('p', {}, 'Fix it in one of these ways:'), ways);
    w.hidden = false;
  }

  /* The download route serves the leaf (and its chain) whenever the status
   * answer has a certificate: both read the same cert.pem. */
  function showTrust(c) {
    const t = $('trust');
    const ss = isSelfSigned(c);
    $('trust-fp').textContent = c.sha256_fingerprint;
    $('dl-der').href = API + '/download?format=der&part=leaf';
    $('dl-pem').href = API + '/download?format=pem&part=leaf';
    $('dl-chain').href = API + '/download?format=pem&part=chain';
    $('dl-chain').hidden = ss;
    /* a CA-signed certificate is trusted through its root, never itself */
    $('dl-root').href = API + '/download?format=der&part=root';
    $('dl-root-pem').href = API + '/download?format=pem&part=root';
    $('dl-root').hidden = ss;
    $('dl-root-pem').hidden = ss;
    $('win-button').textContent = (ss ? $('dl-der') : $('dl-root')).textContent;
    $('lin-button').textContent = (ss ? $('dl-pem') : $('dl-root-pem')).textContent;
    $('mac-button').textContent = $('lin-button').textContent;
    const base = c.subject_cn.replace(/[^A-Za-z0-9._-]/g, '_') || 'appliance';
    $('lin-path').textContent = '/usr/local/share/ca-certificates/' + base + '.crt';
    $('trust-what').textContent = ss
      ? 'This certificate is self-signed: trust the certificate itself, on each computer that opens this dialog.'
      : 'This certificate is signed by a certificate authority: computers that trust your organization\'s root CA trust it already. Otherwise trust that root CA (the Root CA buttons), not the appliance certificate.';
    t.hidden = false;
  }

  function showCurrent(data) {
    current = data;
    const c = data && data.certificate;
    $('current-empty').hidden = !!c;
    if (!c) $('current-empty').textContent = 'No certificate is installed.';
    const exp = $('expiry-warning');
    if (c) {
      details($('current-details'), c);
      if (typeof c.days_left === 'number' && c.days_left < 0) {
        exp.dataset.level = 'err';
        $('expiry-text').replaceChildren(el('strong', {}, 'The certificate has expired.'),
          ' It expired on ' + fmtDate(c.not_after) + ': browsers refuse it. Install a new certificate now.');
        exp.hidden = false;
      } else if (typeof c.days_left === 'number' && c.days_left < 30) {
        exp.dataset.level = 'warn';
        $('expiry-text').replaceChildren(el('strong', {}, 'The certificate expires in ' + daysText(c.days_left) + '.'),
          ' It is valid until ' + fmtDate(c.not_after) + '. Install its replacement before then.');
        exp.hidden = false;
      } else exp.hidden = true;
      $('selfsigned-note').hidden = !isSelfSigned(c);
      $('renew-row').hidden = false;
      nameCheck(c, data.access);
      showTrust(c);
    } else {
      exp.hidden = true;
      $('name-warning').hidden = true;
      $('selfsigned-note').hidden = true;
      $('renew-row').hidden = true;
      $('current-details').hidden = true;
      $('trust').hidden = true;
    }
    showNotice();
    showHistory(data.history);
  }

  /* One banner under the facts: the expiry, the name, the self-signed
   * note, in that order, coloured by the worst of them. */
  function showNotice() {
    const n = $('notice');
    const parts = [...n.querySelectorAll('.notice-part')].filter((p) => !p.hidden);
    let level = 'info';
    if (!$('expiry-warning').hidden) level = $('expiry-warning').dataset.level;
    else if (!$('name-warning').hidden) level = 'warn';
    n.className = 'banner ' + level;
    n.hidden = !parts.length;
  }

  /* "from A to B; from C (active now)": when a release was the active one. */
  function spansText(h) {
    const spans = h.active || [];
    if (!spans.length) return h.current ? 'active now' : 'not recorded';
    return spans.map((p) => 'from ' + fmtShort(p.from) + (p.to ? ' to ' + fmtShort(p.to) : ' (active now)')).join(';\n');
  }

  /* 'Name' (CN x, expires d): how the confirmation names a release. */
  function relText(h) {
    const bits = [];
    if (h.subject_cn) bits.push('CN ' + h.subject_cn);
    if (h.not_after) bits.push('expires ' + fmtDay(h.not_after));
    return "'" + (h.name || h.release) + "'" + (bits.length ? ' (' + bits.join(', ') + ')' : '');
  }

  let pending = null;          /* the switch awaiting its confirmation */

  /* Ask before a switch: what is replaced, and by what. */
  function askSwitch(action, target) {
    if (busy) return;
    const hist = (current && current.history) || [];
    const cur = hist.find((h) => h.current);
    pending = { action, target };
    $('activate-text').textContent = 'Replace ' + (cur ? relText(cur) : 'the current certificate') +
      ' with ' + relText(target) + '? The web server reloads at once; the replaced one stays in this list.';
    $('activate-yes').textContent = action === 'rollback' ? 'Roll back' : 'Make active';
    $('activate-confirm').hidden = false;
    $('activate-no').focus();
  }

  function closeSwitch() {
    pending = null;
    $('activate-confirm').hidden = true;
  }

  function showHistory(hist) {
    const tb = $('history').tBodies[0];
    tb.replaceChildren();
    closeSwitch();
    let prev;
    hist.forEach((h) => {
      if (h.previous) prev = h;
      let state;
      if (h.current) state = 'Current';
      else {
        state = el('button', { type: 'button', class: 'make-active', 'data-release': h.release }, 'Make active');
        state.addEventListener('click', () => askSwitch('activate', h));
        if (busy) state.disabled = true;
      }
      /* data-label: a narrow window shows each row as a card */
      tb.append(el('tr', { class: h.current ? 'current' : null, 'data-release': h.release },
        el('td', { 'data-label': 'Name' }, h.name, el('br'),
          el('span', { class: 'sub' }, h.mode === 'self-signed' ? 'Self-signed' : 'CA-signed')),
        el('td', { 'data-label': 'Certificate', class: h.subject_cn || h.not_after ? null : 'empty' },
          h.subject_cn ? 'CN ' + h.subject_cn : '', h.subject_cn && h.not_after ? el('br') : null,
          h.not_after ? 'expires ' + fmtDay(h.not_after) : ''),
        el('td', { 'data-label': 'Validation' }, (h.validation === 'none' ? 'None' : 'Mandatory') +
          (crlText(h) ? '; CRL ' + crlText(h) : '')),
        el('td', { 'data-label': 'Installed' }, fmtShort(h.installed_at)),
        el('td', { 'data-label': 'Active', class: 'spans' }, spansText(h)),
        el('td', { 'data-label': 'State' }, state)));
    });
    if (!hist.length) tb.append(el('tr', {}, el('td', { colspan: '6' }, 'None yet.')));
    const rb = $('rollback');
    rb.dataset.available = prev ? 'yes' : 'no';
    rb.disabled = !prev || busy;
    rb.onclick = prev ? () => askSwitch('rollback', prev) : null;
    rb.textContent = prev ? 'Roll back to "' + prev.name + '" (installed ' + fmtDate(prev.installed_at) + ')'
      : 'Roll back to the previous certificate';
    $('rollback-hint').textContent = prev
      ? 'Roll back undoes the last change: "' + prev.name + '" was active before the current certificate. The web server reloads at once.'
      : 'There is no earlier active certificate to roll back to; "Make active" restores any certificate in the list.';
    const kept = current && current.releases_kept;
    $('history-kept').textContent = kept
      ? 'The appliance keeps the ' + kept + ' most recently installed certificates (setting releases_kept), and always the active one. ' +
        'The others are deleted at the next install, roll back or Make active, and can then no longer be made active.'
      : '';
  }

  async function loadCurrent() {
    try {
      const { status, data } = await call('GET', API);
      if (sessionTrouble(status, data)) return;
      if (status !== 200) throw new Error(errText(data, status));
      showCurrent(data);
      loadExpiry();
      loadAcme();
    } catch (e) {
      $('current-empty').hidden = false;
      $('current-empty').textContent = 'The current certificate cannot be read: ' + e.message;
    }
  }

  function mode() { return form.querySelector('input[name=mode]:checked').value; }

  function syncMode() {
    const ss = mode() === 'self-signed';
    $('ca-fields').hidden = ss;
    $('ss-fields').hidden = !ss;
    $('test').hidden = ss;
    $('h-test').hidden = ss;
    clearFindings(form);
  }

  /* Clears form f's findings (feedback, marks); hides errBox when given. */
  function clearFindings(f, errBox) {
    for (const p of f.querySelectorAll('.feedback')) p.replaceChildren();
    for (const x of f.querySelectorAll('.invalid, .warned')) x.classList.remove('invalid', 'warned');
    for (const i of f.querySelectorAll('[aria-invalid]')) i.removeAttribute('aria-invalid');
    if (errBox) errBox.hidden = true;
  }

  function recommendation(f) {
    /* no key sent, a request pending: the certificate is for another one */
    if (f.code === 'key_mismatch' && csr && csr.pending && !$('f-key').files.length) {
      return 'Upload the certificate your CA signed for the pending request (download that request again above), ' +
        'or choose the private key made together with this certificate.';
    }
    const r = RECOMMEND[f.code];
    if (r && typeof r === 'object') return r[f.field || ''] || r[''];
    return r;
  }

  /* One finding: the documented message, then our detail, then what to do. */
  function finding(f, kind) {
    const li = el('li', { class: 'finding ' + kind, 'data-code': f.code, 'data-field': f.field || '' });
    li.append(el('span', { class: 'kind' }, kind === 'error' ? 'Error: ' : 'Warning: '),
      el('span', { class: 'msg' }, f.message));
    if (f.detail) li.append(el('span', { class: 'detail' }, 'Details: ' + f.detail));
    const rec = recommendation(f);
    if (rec) li.append(el('span', { class: 'rec' }, 'What to do: ' + rec));
    return li;
  }

  /* Where a finding goes in the form: its field, or the nearest shown one. */
  function fieldTarget(name) {
    if (!name) return null;
    const fb = $('fb-' + name);
    if (!fb) return null;
    const box = fb.closest('.field');
    if (!box || box.closest('[hidden]')) return null;
    return fb;
  }

  function placeAtFields(list, kind) {
    const placed = [];
    for (const f of list) {
      const fb = fieldTarget(f.field);
      if (!fb) continue;
      let ul = fb.querySelector('ul.' + kind + 's');
      if (!ul) {
        ul = el('ul', { class: 'findings ' + kind + 's' });
        if (kind === 'error') fb.prepend(ul); else fb.append(ul);
      }
      ul.append(finding(f, kind));
      const box = fb.closest('.field');
      box.classList.add(kind === 'error' ? 'invalid' : 'warned');
      if (kind === 'error') {
        for (const i of box.querySelectorAll('input')) i.setAttribute('aria-invalid', 'true');
      }
      placed.push(f);
    }
    return placed;
  }

  /* The list in the result box: every finding whole (message, detail,
   * what to do), and for those shown at a field too, a link to it. */
  function summaryList(list, kind, placed) {
    const ul = el('ul', { class: 'findings ' + kind + 's' });
    for (const f of list) {
      const li = finding(f, kind);
      if (placed.includes(f)) {
        const input = form.querySelector('[data-field="' + f.field + '"] input');
        const a = el('a', { href: '#' + (input ? input.id : 'upload') }, FIELD_LABEL[f.field]);
        a.addEventListener('click', (e) => {
          if (!input) return;
          e.preventDefault();
          input.focus();
          input.scrollIntoView({ block: 'center' });
        });
        li.querySelector('.msg').after(' (', a, ')');
      }
      ul.append(li);
    }
    return ul;
  }

  function certDetails(c, heading) {
    const wrap = el('div', { class: 'newcert' }, el('h3', {}, heading));
    const dl = el('dl', { class: 'details', id: 'result-details' });
    details(dl, c);
    wrap.append(dl);
    return wrap;
  }

  function plural(n, one, many) { return n + ' ' + (n === 1 ? one : many); }

  function showResult(kind, nodes, text) {
    resultBody.replaceChildren(...nodes);
    resultBox.hidden = false;
    resultBox.className = 'result-' + kind;
    announce(text);
    $('result-h').focus({ preventScroll: true });
    resultBox.scrollIntoView({ block: 'start' });
  }

  /* "The name must be 1 to 64 letters" says nothing more when the name is
   * missing altogether: one finding per missing field is enough. */
  function dedupe(list) {
    const missing = new Set(list.filter((f) => f.code === 'missing_field' && f.field).map((f) => f.field));
    return list.filter((f) => !(f.code === 'bad_name' && missing.has(f.field)));
  }

  /* data: a report {ok, certificate, errors, warnings} (with release and
   * reload after an install), an error {ok: false, errors, warnings}, or,
   * after a roll back or a self-signed install, the status answer with
   * release and reload (no errors, no warnings). */
  function showAnswer(data, status, action) {
    const errs = dedupe(data.errors || []);
    const warns = data.warnings || [];
    const ok = data.ok === true && status >= 200 && status < 300;
    const installed = ok && action === 'save';
    const formName = $('f-name').value.trim();
    const sentMode = mode();
    if (installed) {
      /* the form is done with: no passphrase or files left lying around */
      form.reset();
      syncMode();
    }
    const placedE = installed ? [] : placeAtFields(errs, 'error');
    const placedW = installed ? [] : placeAtFields(warns, 'warning');
    const nodes = [];
    let say;
    let certBlock = null;
    if (ok) {
      const box = el('div', { class: 'banner ok', id: 'result-status' });
      if (action === 'test') {
        box.append(el('p', {}, el('strong', {}, 'Test passed: these files would be accepted.'),
          ' Nothing was installed; press Save to install them.'));
        say = 'Test passed. Nothing was installed.';
        /* the address in use is not one of its names: said before Save */
        const nm = warns.map((f) => f.code === 'name_mismatch' && /^after Save, (\S+) will show a name error/.exec(f.detail || ''))
          .find(Boolean);
        if (nm) {
          box.append(el('p', { id: 'name-before-save' }, el('strong', {}, 'After Save, ' + nm[1] + ' will show a name error'),
            ' (NET::ERR_CERT_COMMON_NAME_INVALID): this certificate does not name the address you are using. See the warning below.'));
          say += ' After Save, ' + nm[1] + ' will show a name error.';
        }
      } else if (action === 'rollback') {
        box.append(el('p', {}, el('strong', {}, 'Rolled back: the previous certificate is active again.')));
        say = 'Rolled back.';
      } else if (action === 'activate') {
        const c = data.certificate;
        box.append(el('p', {}, el('strong', {}, 'Made active: ' + (c && c.name ? '"' + c.name + '"' : 'the chosen certificate') +
          ' is the active certificate now.')));
        say = 'Made active.';
      } else {
        const ss = sentMode === 'self-signed';
        /* a CA-signed install answers with the report: its certificate is
         * the summary, without the name it was installed under */
        if (!ss && data.certificate) data.certificate.name = formName;
        box.append(el('p', {}, el('strong', {}, ss
          ? 'A new self-signed certificate was installed.'
          : 'The certificate "' + formName + '" was installed' +
            (warns.length ? ', with ' + plural(warns.length, 'warning', 'warnings') + ' (below).' : '.'))));
        say = 'The certificate was installed.';
      }
      if (data.reload && action !== 'test') {
        if (data.reload.ok) {
          box.append(el('p', { id: 'reload-status' }, 'The web server reloaded: new connections use the new certificate. ',
            'Reload this page to see it in your browser; the browser may ask you to accept it if your computer does not trust it yet.'));
          const b = el('button', { type: 'button', id: 'reload-page' }, 'Reload this page');
          b.addEventListener('click', () => location.reload());
          box.append(el('p', {}, b));
          say += ' The web server reloaded.';
        } else {
          box.append(el('p', { id: 'reload-status', class: 'reload-failed' },
            'The certificate is installed, but the web server did not reload' +
            (data.reload.detail ? ' (' + data.reload.detail + ')' : '') +
            '. It is used after the next restart of the web server.'));
          say += ' But the web server did not reload.';
        }
      }
      nodes.push(box);
      if (warns.length) say += ' ' + plural(warns.length, 'warning', 'warnings') + ': ' + warns[0].message;
      if (data.certificate && action === 'test') {
        certBlock = certDetails(data.certificate, 'The tested certificate');
      } else if (data.certificate || action === 'rollback' || action === 'activate') {
        /* it is the current one now: its details are shown once, above */
        const a = el('a', { href: '#current', id: 'to-current' }, 'Current certificate');
        a.addEventListener('click', (e) => {
          e.preventDefault();
          $('current').scrollIntoView({ block: 'start' });
          $('current-h').focus({ preventScroll: true });
        });
        box.append(el('p', { id: 'see-current' }, 'Its details are under ', a, ' at the top of the page.'));
      }
    } else {
      const box = el('div', { class: 'banner err', id: 'result-status' });
      const sw = action === 'rollback' || action === 'activate';
      const what = action === 'test' ? 'The test found' : action === 'rollback' ? 'Roll back failed:'
        : action === 'activate' ? 'Make active failed:' : 'Nothing was installed. The upload has';
      if (errs.length) {
        box.append(el('p', {}, el('strong', {}, sw ? what
          : what + ' ' + plural(errs.length, 'error', 'errors') + '.'),
          placedE.length ? ' Each is also shown next to its field.' : ''));
        box.append(summaryList(errs, 'error', placedE));
      } else {
        box.append(el('p', {}, el('strong', {}, 'The appliance refused the request (HTTP ' + status + ').')));
      }
      nodes.push(box);
      say = (action === 'test' ? 'Test failed: ' : action === 'rollback' ? 'Roll back failed: '
        : action === 'activate' ? 'Make active failed: ' : 'Upload refused: ') +
        plural(errs.length, 'error', 'errors') + (warns.length ? ', ' + plural(warns.length, 'warning', 'warnings') : '') +
        '. ' + (errs[0] ? errs[0].message : '');
    }
    if (warns.length) {
      const w = el('div', { class: 'banner warn', id: 'result-warnings' },
        el('p', {}, el('strong', {}, plural(warns.length, 'warning', 'warnings') + ' (these do not stop the upload):')));
      w.append(summaryList(warns, 'warning', placedW));
      nodes.push(w);
    }
    if (certBlock) nodes.push(certBlock);
    showResult(ok ? 'ok' : 'err', nodes, say);
  }

  function send(url, fd, label) {
    return new Promise((resolve, reject) => {
      const x = new XMLHttpRequest();
      const bar = $('progress');
      x.open('POST', url);
      x.timeout = 120000;
      x.responseType = 'text';
      x.upload.onprogress = (e) => {
        if (e.lengthComputable) {
          const pct = Math.round(100 * e.loaded / e.total);
          bar.value = pct;
          $('progress-label').textContent = label + ' ' + pct + '%';
        }
      };
      x.upload.onload = () => {
        bar.value = 100;
        $('progress-label').textContent = 'Uploaded. The appliance is checking the files…';
      };
      x.onload = () => {
        let data = null;
        try { data = JSON.parse(x.responseText); } catch (e) { data = null; }
        if (!data || typeof data !== 'object') {
          data = { ok: false, errors: [{ code: 'validation_failed', message: 'Certificate validation failed', field: null,
            detail: 'the appliance answered HTTP ' + x.status + ' without a result' }], warnings: [] };
        }
        resolve({ status: x.status, data });
      };
      x.onerror = () => reject(new Error('the appliance did not answer (network error)'));
      x.ontimeout = () => reject(new Error('the appliance did not answer within 2 minutes'));
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
    fd.append('name', $('f-name').value.trim());
    if ($('f-passphrase').value) fd.append('passphrase', $('f-passphrase').value);
    for (const f of ['key', 'crt', 'chain']) {
      const file = $('f-' + f).files[0];
      if (file) fd.append(f, file, file.name);
    }
    fd.append('use_crl', $('f-use-crl').checked ? 'on' : 'off');
    fd.append('validation', form.querySelector('input[name=validation]:checked').value);
    return fd;
  }

  function setBusy(on) {
    busy = on;
    form.setAttribute('aria-busy', on ? 'true' : 'false');
    $('save').disabled = on;
    $('test').disabled = on;
    $('rollback').disabled = on || $('rollback').dataset.available !== 'yes';
    for (const b of document.querySelectorAll('#history button.make-active, #activate-yes')) b.disabled = on;
  }

  async function run(action, url, fd, label) {
    if (busy) return;
    setBusy(true);
    clearFindings(form);
    resultBox.hidden = true;
    resultBody.replaceChildren();
    $('progress').value = 0;
    $('progress-label').textContent = label;
    $('progress-box').hidden = action === 'rollback' || action === 'activate';
    announce(label);
    try {
      const { status, data } = await send(url, fd, label);
      if (sessionTrouble(status, data)) {
        /* nothing was done: say so where the admin comes back to */
        if (resume) resume.toResult = true;
        showResult('err', [el('div', { class: 'banner err', id: 'result-status' },
          el('p', {}, el('strong', {}, 'Nothing was done: your session had ended.')),
          el('p', {}, 'You are signed in again; press ' +
            (action === 'test' ? 'Test' : action === 'rollback' ? 'Roll back' : action === 'activate' ? 'Make active' : 'Save') + ' again.'))],
          'Your session had ended. Nothing was done.');
        return;
      }
      showAnswer(data, status, action);
      if (action !== 'test' && data.ok) { await loadCurrent(); await loadCsr(); }
    } catch (e) {
      showResult('err', [el('div', { class: 'banner err', id: 'result-status' },
        el('p', {}, el('strong', {}, 'Nothing happened: ' + e.message + '.')),
        el('p', {}, 'Check the network connection to the appliance and try again.'))],
        'Error: ' + e.message);
    } finally {
      $('progress-box').hidden = true;
      setBusy(false);
    }
  }


  /* ------------------------------------------------ sign-in and account */

  const VIEWS = ['boot', 'signin-view', 'choose-view', 'app'];
  let session = null;          /* GET /api/session answer, null when signed out */
  let resume = null;           /* where the admin was when the session ended */
  let appShown = false;        /* the dialog was shown once: keep its state */

  function showView(id) {
    for (const v of VIEWS) $(v).hidden = v !== id;
    const gate = id === 'signin-view' || id === 'choose-view';
    $('main').classList.toggle('narrow', gate);
    $('userbar').hidden = !session || id === 'signin-view' || id === 'boot';
    $('to-account').hidden = id !== 'app';
    if (session) $('who').textContent = session.user;
    document.title = (id === 'signin-view' ? 'Sign in: ' : id === 'choose-view' ? 'Choose your password: ' : '') +
      'SSL/TLS Certificates';
  }

  /* One JSON request.  Resolves with the status, the body (an object,
   * whatever the status) and Retry-After; rejects only without an answer. */
  async function call(method, url, body) {
    const opt = { method, credentials: 'same-origin', cache: 'no-store', headers: {} };
    if (body !== undefined) {
      opt.headers['Content-Type'] = 'application/json';
      opt.body = JSON.stringify(body);
    }
    let r;
    try {
      r = await fetch(url, opt);
    } catch (e) {
      throw new Error('the appliance did not answer (network error)');
    }
    let data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    return { status: r.status, data: data && typeof data === 'object' ? data : {},
      retryAfter: r.headers.get('Retry-After') };
  }

  function errCode(data) {
    const f = data && data.errors && data.errors[0];
    return f ? f.code : '';
  }

  function errText(data, status) {
    const f = data && data.errors && data.errors[0];
    if (!f) return 'The appliance answered HTTP ' + status + '.';
    return f.message + (f.detail ? ' (' + f.detail + ')' : '');
  }

  /* A 401 of any call but the sign-in itself: the session ended (idle,
   * lifetime, signed out elsewhere).  A 403 password_change_required: the
   * password must be chosen first.  True when the caller should stop. */
  function sessionTrouble(status, data) {
    const code = errCode(data);
    if (status === 401 && code !== 'sign_in_failed') {
      if (!$('app').hidden) {
        const a = document.activeElement;
        resume = { y: window.scrollY, focus: a && a.id ? a.id : null, user: session && session.user };
      }
      session = null;
      showSignIn('Your session has ended. Sign in again to go on where you were.');
      return true;
    }
    if (status === 403 && code === 'password_change_required') {
      showChoose();
      return true;
    }
    return false;
  }

  /* GET path: its data, or null after telling why through
   * say('The WHAT cannot be read: ...'); a session that ended is told by
   * sessionTrouble() alone.  good(data): the answer is usable (and 200). */
  async function getData(path, what, say, good) {
    let r;
    try {
      r = await call('GET', path);
    } catch (e) {
      say('The ' + what + ' cannot be read: ' + e.message + '.');
      return null;
    }
    if (sessionTrouble(r.status, r.data)) return null;
    if (r.status !== 200 || (good && !good(r.data))) {
      say('The ' + what + ' cannot be read: ' + errText(r.data, r.status));
      return null;
    }
    return r.data;
  }

  function showError(box, text) {
    box.replaceChildren(el('p', {}, text));
    box.hidden = !text;
  }

  /* "Try again in N s", counted down; the button waits as long. */
  let waitTimer = null;
  function tooMany(box, button, data, retryAfter) {
    let n = parseInt(retryAfter, 10);
    if (!(n >= 1)) n = 1;
    const f = data.errors && data.errors[0];
    const msg = f ? f.message : 'Too many failed sign-in attempts. Try again later.';
    const line = el('span', { class: 'retry' });
    box.replaceChildren(el('p', {}, msg + ' ', line));
    box.hidden = false;
    clearInterval(waitTimer);
    const until = Date.now() + n * 1000;
    const tick = () => {
      const left = Math.ceil((until - Date.now()) / 1000);
      if (left > 0) {
        line.textContent = 'Try again in ' + left + ' s.';
        button.disabled = true;
      } else {
        clearInterval(waitTimer);
        line.textContent = 'You can try again now.';
        button.disabled = false;
      }
    };
    tick();
    waitTimer = setInterval(tick, 250);
    announce(msg + ' Try again in ' + n + ' seconds.');
  }

  function showSignIn(note) {
    showView('signin-view');
    $('signin-note').hidden = !note;
    $('signin-note-text').textContent = note || '';
    $('si-pass').value = '';
    if (resume && resume.user) $('si-user').value = resume.user;
    (resume && resume.user ? $('si-pass') : $('si-user')).focus();
    if (note) announce(note);
  }

  function showChoose() {
    showView('choose-view');
    for (const i of ['cp-new', 'cp-again', 'cp-current']) $(i).value = '';
    $('cp-error').hidden = true;
    $('cp-new').focus();
  }

  function showApp() {
    const first = !appShown;
    appShown = true;
    showView('app');
    if (resume && session && resume.user !== session.user) {
      /* someone else signed in: nothing of the last admin's form stays */
      form.reset();
      syncMode();
      resultBox.hidden = true;
      resultBody.replaceChildren();
      acmeReset();
      resume = null;
    }
    loadCurrent();
    loadCsr();
    loadTokens();
    if (resume) {
      const r = resume;
      resume = null;
      const f = r.toResult ? $('result-h') : r.focus && $(r.focus);
      if (r.toResult) resultBox.scrollIntoView({ block: 'start' }); else window.scrollTo(0, r.y);
      if (f && !f.closest('[hidden]')) f.focus({ preventScroll: true });
      announce('Signed in again as ' + session.user + '.');
    } else if (first) {
      window.scrollTo(0, 0);
    }
  }

  async function start() {
    let r;
    try {
      r = await call('GET', '/api/session');
    } catch (e) {
      $('boot').textContent = 'The appliance cannot be reached: ' + e.message + '. Reload the page to try again.';
      return;
    }
    if (r.status === 200 && r.data.user) {
      session = r.data;
      if (session.must_change_password) showChoose(); else showApp();
    } else if (r.status === 401) {
      showSignIn('');
    } else {
      $('boot').textContent = 'The appliance refused to say who is signed in: ' + errText(r.data, r.status);
    }
  }

  $('signin').addEventListener('submit', async (e) => {
    e.preventDefault();
    const user = $('si-user').value.trim();
    const password = $('si-pass').value;
    const box = $('si-error');
    if (!user || !password) {
      showError(box, !user ? 'Enter your user name.' : 'Enter your password.');
      (!user ? $('si-user') : $('si-pass')).focus();
      return;
    }
    $('si-submit').disabled = true;
    let r;
    try {
      r = await call('POST', '/api/session', { user, password });
    } catch (err) {
      showError(box, 'Not signed in: ' + err.message + '.');
      $('si-submit').disabled = false;
      return;
    }
    $('si-pass').value = '';
    if (r.status === 200 && r.data.ok) {
      clearInterval(waitTimer);
      $('si-submit').disabled = false;
      box.hidden = true;
      session = { user: r.data.user, must_change_password: r.data.must_change_password, expires: r.data.expires };
      if (session.must_change_password) showChoose(); else showApp();
      return;
    }
    $('si-submit').disabled = false;
    if (r.status === 429) {
      tooMany(box, $('si-submit'), r.data, r.retryAfter);
    } else {
      showError(box, errText(r.data, r.status));
      announce(box.textContent);
    }
    $('si-pass').focus();
  });

  /* The forced change and the voluntary one: the same route, the same
   * checks.  The two new entries must agree before anything is sent. */
  async function changePassword(ids, after) {
    const current = $(ids.current).value;
    const nw = $(ids.nw).value;
    const box = $(ids.error);
    box.hidden = true;
    if (ids.done) $(ids.done).hidden = true;
    if (!current) { showError(box, 'Enter your current password.'); $(ids.current).focus(); return; }
    if (!nw) { showError(box, 'Enter the new password.'); $(ids.nw).focus(); return; }
    if (nw !== $(ids.again).value) {
      showError(box, 'The two new passwords are not the same. Type the new password twice.');
      $(ids.again).focus();
      return;
    }
    $(ids.submit).disabled = true;
    let r;
    try {
      r = await call('PUT', '/api/session/password', { current, new: nw });
    } catch (err) {
      showError(box, 'The password was not changed: ' + err.message + '.');
      $(ids.submit).disabled = false;
      return;
    }
    $(ids.submit).disabled = false;
    if (r.status === 200 && r.data.ok) {
      for (const k of ['current', 'nw', 'again']) $(ids[k]).value = '';
      after();
      return;
    }
    if (r.status === 429) { tooMany(box, $(ids.submit), r.data, r.retryAfter); return; }
    if (errCode(r.data) === 'sign_in_failed') {
      showError(box, 'The current password is not right. ' + errText(r.data, r.status));
      $(ids.current).focus();
    } else if (sessionTrouble(r.status, r.data)) {
      return;
    } else {
      /* weak_password: the detail says which rule, the one thing to read */
      const f = r.data.errors && r.data.errors[0];
      showError(box, errCode(r.data) === 'weak_password' && f.detail
        ? 'This password cannot be used: ' + f.detail + '.' : errText(r.data, r.status));
      $(ids.nw).focus();
    }
    announce(box.textContent);
  }

  $('choose').addEventListener('submit', (e) => {
    e.preventDefault();
    changePassword({ current: 'cp-current', nw: 'cp-new', again: 'cp-again', error: 'cp-error', submit: 'cp-submit' },
      () => {
        session.must_change_password = false;
        announce('Your password is set.');
        showApp();
      });
  });

  $('pwchange').addEventListener('submit', (e) => {
    e.preventDefault();
    changePassword({ current: 'pw-current', nw: 'pw-new', again: 'pw-again', error: 'pw-error', submit: 'pw-submit', done: 'pw-done' },
      () => {
        const d = $('pw-done');
        d.replaceChildren(el('p', {}, el('strong', {}, 'Your password was changed.'),
          ' Your other sessions were signed out; this one goes on.'));
        d.hidden = false;
        announce('Your password was changed.');
      });
  });

  $('signout').addEventListener('click', async () => {
    $('signout').disabled = true;
    try {
      await call('DELETE', '/api/session');
    } catch (e) {
      /* the cookie may live on at the appliance: say so */
      $('signout').disabled = false;
      announce('Sign out failed: ' + e.message);
      return;
    }
    $('signout').disabled = false;
    session = null;
    resume = null;
    appShown = false;
    /* the next admin at this computer finds nothing of this one's work */
    form.reset();
    syncMode();
    resultBox.hidden = true;
    resultBody.replaceChildren();
    hideNewToken();
    acmeReset();
    csrFilled = false;
    $('csr-box').open = false;
    $('csr-status').textContent = '';
    $('si-user').value = '';
    showSignIn('You are signed out.');
  });

  /* ----- the signing request (/api/csr) */

  const KEY_TYPE_TEXT = { rsa2048: 'RSA 2048 bits', rsa4096: 'RSA 4096 bits',
    'ec-p256': 'EC P-256', 'ec-p384': 'EC P-384' };
  /* An editable list of names (the signing request's, ACME's): the list
   * PREFIX-names, its rows PREFIX-name inputs with a Remove button each,
   * labelled LABEL 1, 2, ... for screen readers. */
  function nameList(prefix, label) {
    let seq = 0;
    function renumber() {
      $(prefix + '-names').querySelectorAll('li').forEach((li, i) => {
        const v = li.querySelector('input').value;
        li.querySelector('label').textContent = label + ' ' + (i + 1);
        li.querySelector('button').setAttribute('aria-label', 'Remove name ' + (i + 1) + (v ? ' (' + v + ')' : ''));
      });
    }
    function add(value, focus) {
      const id = prefix + '-name-' + (++seq);
      const input = el('input', { type: 'text', id, class: prefix + '-name', autocomplete: 'off', spellcheck: 'false' });
      input.value = value || '';
      const li = el('li', {}, el('label', { for: id, class: 'visually-hidden' }, label), input);
      const rm = el('button', { type: 'button', class: prefix + '-name-remove' }, 'Remove');
      rm.addEventListener('click', () => {
        const next = li.nextElementSibling || li.previousElementSibling;
        li.remove();
        renumber();
        (next ? next.querySelector('input') : $(prefix + '-add-name')).focus();
      });
      li.append(rm);
      $(prefix + '-names').append(li);
      renumber();
      if (focus) input.focus();
    }
    return { add, renumber };
  }

  const CSR_SUBJECT = ['cn', 'o', 'ou', 'c', 'st', 'l'];
  let csr = null;              /* last GET /api/csr answer */
  let csrFilled = false;       /* the form holds the defaults (or the admin's entries) */

  const csrNames = nameList('csr', 'Subject alternative name');

  /* The form from the appliance's defaults: the current certificate's
   * subject and names (docs/API.md, Signing request). */
  function fillCsrForm(d, renew) {
    const sel = $('csr-key-type');
    sel.replaceChildren();
    for (const k of d.key_types || ['rsa2048']) sel.append(el('option', { value: k }, KEY_TYPE_TEXT[k] || k));
    sel.value = (d.key_types || []).includes('rsa2048') ? 'rsa2048' : sel.options[0].value;
    for (const k of CSR_SUBJECT) $('csr-' + k).value = (d.subject && d.subject[k]) || '';
    $('csr-names').replaceChildren();
    for (const n of d.names || []) csrNames.add(n);
    if (!(d.names || []).length) csrNames.add('');
    $('csr-keysrc').hidden = !renew;
    $('csr-form').querySelector('input[name=csr-keep][value=new]').checked = true;
    syncKeep();
    $('csr-summary').textContent = renew ? 'Renew: create a signing request for the current certificate'
      : 'Create a certificate signing request';
    clearFindings($('csr-form'), $('csr-error'));
    $('csr-replace').hidden = true;
    csrFilled = true;
  }

  function syncKeep() {
    const keep = !$('csr-keysrc').hidden &&
      $('csr-form').querySelector('input[name=csr-keep]:checked').value === 'keep';
    $('csr-key-type').disabled = keep;
  }


  function csrRows(r) {
    const c = r.csr || {};
    return [
      ['Created', fmtDate(r.created)],
      ['Key', (KEY_TYPE_TEXT[r.key_type] || r.key_type) + (r.kept_key ? ' (the current certificate\'s key, kept)' : ', new')],
      ['Subject', c.subject],
      ['Names', (c.san || []).map((s) => s.replace(/^(DNS|IP):/, '')).join(', ')],
      ['Public key SHA-256', c.key_sha256]
    ];
  }

  function showCsr(data) {
    csr = data;
    const pending = !!(data && data.pending);
    const box = $('csr-pending');
    if (pending) {
      const dl = $('csr-details');
      dl.replaceChildren();
      for (const [k, v] of csrRows(data)) {
        if (!v) continue;
        dl.append(el('dt', {}, k), el('dd', { 'data-item': k.toLowerCase().replace(/[^a-z0-9]+/g, '-'),
          class: k.startsWith('Public') ? 'mono' : null }, v));
      }
    }
    box.hidden = !pending;
    $('csr-discard-confirm').hidden = true;
    $('csr-discard').hidden = false;
    /* the upload form: the key is optional while a request is pending */
    $('h-key-pending').hidden = !pending;
    $('h-key').hidden = pending;
    document.querySelector('label[for=f-key]').textContent = FIELD_LABEL.key + (pending ? ' (optional)' : '');
    if (!csrFilled && data && data.defaults) fillCsrForm(data.defaults, false);
  }

  async function loadCsr() {
    const d = await getData('/api/csr', 'signing request', (t) => showError($('csr-error'), t));
    if (d) showCsr(d);
  }

  function csrBody(replace) {
    const subject = {};
    for (const k of CSR_SUBJECT) {
      const v = $('csr-' + k).value.trim();
      if (v || !['st', 'l'].includes(k)) subject[k] = v;
    }
    const names = [...$('csr-names').querySelectorAll('input')].map((i) => i.value.trim()).filter(Boolean);
    const body = { subject, names };
    const keep = !$('csr-keysrc').hidden &&
      $('csr-form').querySelector('input[name=csr-keep]:checked').value === 'keep';
    if (keep) body.keep_key = true; else body.key_type = $('csr-key-type').value;
    if (replace) body.replace = true;
    return body;
  }

  /* What a new request replaces, in the admin's words. */
  function askReplace() {
    const c = (csr && csr.csr) || {};
    $('csr-replace-text').textContent = 'A signing request is pending: ' + (c.subject || 'CN ' + (c.cn || '?')) +
      ', created ' + fmtDate(csr && csr.created) + '. Creating a new one replaces it and deletes its key: ' +
      'a certificate the CA signs for the old request can then no longer be installed.';
    $('csr-replace').hidden = false;
    $('csr-replace-no').focus();
    announce($('csr-replace-text').textContent);
  }

  /* call() with btn disabled and form marked busy meanwhile; a network
   * failure is shown in errBox after text ("Not saved: ...") and gives null. */
  async function busyCall(btn, form, errBox, text, method, path, body) {
    btn.disabled = true;
    form.setAttribute('aria-busy', 'true');
    try {
      return await call(method, path, body);
    } catch (e) {
      showError(errBox, text + e.message + '.');
      return null;
    } finally {
      btn.disabled = false;
      form.setAttribute('aria-busy', 'false');
    }
  }

  async function createCsr(replace) {
    clearFindings($('csr-form'), $('csr-error'));
    $('csr-replace').hidden = true;
    if (!replace && csr && csr.pending) { askReplace(); return; }
    announce('Creating the key and the signing request…');
    const r = await busyCall($('csr-create'), $('csr-form'), $('csr-error'),
      'No request was created: ', 'POST', '/api/csr', csrBody(replace));
    if (!r || sessionTrouble(r.status, r.data)) return;
    if (r.status === 201 && r.data.pending) {
      csrFilled = false;
      $('csr-box').open = false;
      showCsr(r.data);
      $('csr-status').textContent = 'The signing request was created. Download it and send it to your CA.';
      announce($('csr-status').textContent);
      $('dl-csr').focus();
      return;
    }
    if (r.status === 409 && errCode(r.data) === 'csr_pending') {
      /* made elsewhere meanwhile: say what it is, then ask */
      await loadCsr();
      askReplace();
      return;
    }
    const f = r.data.errors && r.data.errors[0];
    const fb = f && f.field ? $('csr-fb-' + f.field) : null;
    const text = errText(r.data, r.status);
    if (fb) {
      fb.replaceChildren(el('p', { class: 'finding error', 'data-code': f.code }, 'Error: ' + text));
      const box = fb.closest('.field') || fb.closest('fieldset');
      box.classList.add('invalid');
      const input = box.querySelector('input:not([type=radio]), select') || box.querySelector('input');
      if (input) { input.setAttribute('aria-invalid', 'true'); input.focus(); }
    } else {
      showError($('csr-error'), 'No request was created: ' + text);
    }
    announce('No request was created: ' + text);
  }

  $('csr-form').addEventListener('submit', (e) => { e.preventDefault(); createCsr(false); });
  $('csr-replace-yes').addEventListener('click', () => createCsr(true));
  $('csr-replace-no').addEventListener('click', () => {
    $('csr-replace').hidden = true;
    announce('The pending request is kept.');
    $('csr-create').focus();
  });
  $('csr-add-name').addEventListener('click', () => csrNames.add('', true));
  $('csr-names').addEventListener('input', csrNames.renumber);
  for (const r of document.querySelectorAll('input[name=csr-keep]')) r.addEventListener('change', syncKeep);
  $('csr-form').addEventListener('input', (e) => {
    const box = e.target.closest('.field');
    if (!box) return;
    box.classList.remove('invalid');
    e.target.removeAttribute('aria-invalid');
    const fb = box.querySelector('.feedback');
    if (fb) fb.replaceChildren();
  });
  $('renew').addEventListener('click', async () => {
    if (!csr || !csr.defaults) await loadCsr();
    if (!csr || !csr.defaults) return;
    fillCsrForm(csr.defaults, true);
    $('csr-box').open = true;
    $('csr').scrollIntoView({ block: 'start' });
    $('csr-form').querySelector('input[name=csr-keep][value=new]').focus({ preventScroll: true });
    announce('Renew: the request form holds the current certificate\'s subject and names.');
  });
  $('csr-discard').addEventListener('click', () => {
    $('csr-discard-confirm').hidden = false;
    $('csr-discard').hidden = true;
    $('csr-discard-no').focus();
  });
  $('csr-discard-no').addEventListener('click', () => {
    $('csr-discard-confirm').hidden = true;
    $('csr-discard').hidden = false;
    $('csr-discard').focus();
  });
  $('csr-discard-yes').addEventListener('click', async () => {
    $('csr-discard-yes').disabled = true;
    let r;
    try {
      r = await call('DELETE', '/api/csr');
    } catch (e) {
      $('csr-status').textContent = 'Not discarded: ' + e.message + '.';
      return;
    } finally {
      $('csr-discard-yes').disabled = false;
    }
    if (sessionTrouble(r.status, r.data)) return;
    const ok = (r.status === 200 && r.data.ok) || r.status === 404;
    await loadCsr();
    $('csr-status').textContent = '';
    announce(ok ? 'The signing request was discarded.' : 'Not discarded: ' + errText(r.data, r.status));
    if (!ok) { $('csr-pending').hidden = false; $('csr-status').textContent = 'Not discarded: ' + errText(r.data, r.status); }
    $('csr-h').focus();
  });

  /* ----- Expiry warnings: what certdialog-expiry did and does next
   * (GET /api/expiry), and a test notification (POST /api/expiry/test). */

  function plainDays(n) { return n + (n === 1 ? ' day' : ' days'); }

  /* "Journal; webhook to hooks.contoso.com:443; metrics file /path" */
  function ewChannels(ch) {
    const out = ['Journal'];
    if (ch.webhook && ch.webhook.configured) {
      out.push('webhook to ' + ch.webhook.host + (ch.webhook.port && ch.webhook.port !== 443 ? ':' + ch.webhook.port : ''));
    } else out.push('no webhook');
    if (ch.metrics && ch.metrics.configured) out.push('metrics file ' + ch.metrics.file);
    else out.push('no metrics file');
    return out.join('; ');
  }

  function ewLastCheck(d) {
    const c = d.last_check;
    if (!c) return 'Not run yet: the check runs daily (certdialog-expiry.timer).';
    const when = fmtDate(c.at);
    if (c.success) return when + ': done, every warning due was sent.';
    return when + ': failed' + (c.detail ? ': ' + c.detail : '') + '. The next check tries again.';
  }

  function ewNext(d) {
    const n = d.next;
    if (n) {
      return 'in ' + plainDays(n.in_days) + ', ' + (n.threshold === 0 ? 'on the day it expires'
        : plainDays(n.threshold) + ' before expiry') + ' (' + fmtDate(n.date) + ')';
    }
    if (d.certificate && d.certificate.days_left < 0) return 'none: the certificate has expired';
    return 'none left';
  }

  /* The thresholds told for this certificate: "30 days (journal, webhook)". */
  function ewSent(d) {
    const by = new Map();
    for (const ch of ['journal', 'webhook']) {
      for (const t of (d.notified && d.notified[ch]) || []) {
        if (!by.has(t)) by.set(t, []);
        by.get(t).push(ch);
      }
    }
    if (!by.size) return 'none yet for this certificate';
    return [...by.keys()].sort((a, b) => b - a)
      .map((t) => plainDays(t) + ' (' + by.get(t).join(', ') + ')').join('; ');
  }

  function showExpiry(d) {
    const dl = $('ew-details');
    dl.replaceChildren();
    const rows = [
      ['Last check', ewLastCheck(d)],
      ['Next warning', ewNext(d)],
      ['Warnings sent', ewSent(d)],
      ['Thresholds', (d.thresholds || []).map((t) => String(t)).join(', ') + ' days before expiry'],
      ['Channels', ewChannels(d.channels || {})],
    ];
    const c = d.certificate;
    if (c && !c.earliest_is_leaf) {
      rows.splice(2, 0, ['Chain ends', fmtDate(c.not_after) + ': ' + c.earliest + ' ends before the certificate']);
    }
    if (d.state_detail) rows.push(['State file', d.state_detail]);
    for (const [k, v] of rows) {
      dl.append(el('dt', { 'data-item': k.toLowerCase().replace(/ /g, '-') }, k),
        el('dd', { 'data-item': k.toLowerCase().replace(/ /g, '-') }, v));
    }
    $('ew').hidden = false;
  }

  async function loadExpiry() {
    let r;
    try {
      r = await call('GET', '/api/expiry');
    } catch (e) {
      return;                  /* the certificate part says it already */
    }
    if (sessionTrouble(r.status, r.data)) return;
    if (r.status !== 200 || !r.data.ok) { $('ew').hidden = true; return; }
    showExpiry(r.data);
  }

  /* One line a channel: "Journal: sent", its detail below. */
  function ewResultRow(name, ch) {
    let verdict, cls;
    if (ch.ok === true) { verdict = 'sent'; cls = 'ch-ok'; }
    else if (ch.ok === false) { verdict = 'not delivered'; cls = 'ch-err'; }
    else { verdict = ch.configured ? 'not written' : 'not configured'; cls = 'ch-none'; }
    if (name === 'Webhook' && ch.configured && ch.attempts) {
      verdict += ' (' + ch.host + ', ' + ch.attempts + (ch.attempts === 1 ? ' attempt)' : ' attempts)');
    }
    return el('li', { 'data-channel': name.toLowerCase() }, el('span', { class: 'ch' }, name + ': '),
      el('span', { class: cls }, verdict), ch.detail ? el('span', { class: 'ch-detail' }, ch.detail) : null);
  }

  $('ew-test').addEventListener('click', async () => {
    const b = $('ew-test');
    const box = $('ew-result');
    b.disabled = true;
    b.textContent = 'Sending…';
    box.hidden = false;
    box.className = 'banner info';
    $('ew-summary').textContent = 'Sending a test notification…';
    $('ew-channels').replaceChildren();
    let r;
    try {
      r = await call('POST', '/api/expiry/test');
    } catch (e) {
      r = null;
      box.className = 'banner err';
      $('ew-summary').textContent = 'Not sent: ' + e.message + '.';
    } finally {
      b.disabled = false;
      b.textContent = 'Send a test notification';
    }
    if (!r) { announce($('ew-summary').textContent); return; }
    if (sessionTrouble(r.status, r.data)) return;
    const ch = r.data.channels;
    if (!ch) {
      box.className = 'banner err';
      $('ew-summary').textContent = 'Not sent: ' + errText(r.data, r.status);
    } else {
      const ok = r.status === 200 && r.data.ok;
      box.className = 'banner ' + (ok ? 'ok' : 'err');
      $('ew-summary').textContent = ok ? 'Test notification sent (' + fmtDate(r.data.sent_at) + ').'
        : 'The test notification was not delivered everywhere:';
      $('ew-channels').replaceChildren(ewResultRow('Journal', ch.journal), ewResultRow('Webhook', ch.webhook),
        ewResultRow('Metrics', ch.metrics));
    }
    announce(box.textContent);
  });

  /* ----- Automatic renewal (ACME): the status with "Renew now" and the
   * settings (GET/PUT /api/acme, POST /api/acme/renew; docs/API.md
   * "Automatic renewal (ACME)").  The HMAC key is never answered: the form
   * says one is stored, and an empty field keeps it. */

  const ACME_POLL_MS = 3000;
  const ACME_POLL_MAX = 240;     /* 12 minutes: a run ends within acme_timeout (600 s unless set) */
  const ACME_START_POLLS = 5;    /* a started run not seen within these polls is not coming */
  let acme = null;               /* last GET /api/acme answer */
  let acmeFilled = false;        /* the form holds the stored settings (or the admin's entries) */
  let acmeNamesDefault = [];     /* the current certificate's names, the form's default */
  let acmeWatch = null;          /* the polling while a run goes on */

  /* What a run changes in the status: a finished run differs from before. */
  function acmeKey(st) {
    return st ? JSON.stringify([st.last_attempt, st.last_result, st.last_message, st.failures,
      st.last_success, st.release]) : '';
  }

  /* The names a renewal uses when none are configured: the served
   * certificate's subjectAltNames, as the run takes them; without any, the
   * signing request's defaults (the host name). */
  function acmeServedNames() {
    const c = current && current.certificate;
    const out = [];
    for (const s of (c && c.san) || []) {
      const m = /^(?:DNS|IP):(.+)$/.exec(s);
      if (m && !m[1].startsWith('*')) out.push(m[1]);
    }
    if (out.length) return out;
    return (csr && csr.defaults && csr.defaults.names) || [];
  }

  function sameNames(a, b) {
    const norm = (l) => l.map((n) => n.toLowerCase()).sort().join('\n');
    return norm(a) === norm(b);
  }

  const acmeNames = nameList('acme', 'Name');

  const acmeFormNames = () => [...$('acme-names').querySelectorAll('input')].map((i) => i.value.trim()).filter(Boolean);


  /* The form from the stored settings, or the API's defaults without any. */
  function fillAcmeForm(cfg, keyTypes) {
    $('acme-enabled').checked = cfg ? cfg.enabled : true;
    $('acme-directory').value = cfg ? cfg.directory : '';
    $('acme-email').value = (cfg && cfg.email) || '';
    $('acme-eab-kid').value = (cfg && cfg.eab_key_id) || '';
    $('acme-eab-hmac').value = '';
    $('acme-hmac-stored').hidden = !(cfg && cfg.eab_hmac_set);
    acmeNamesDefault = acmeServedNames();
    const names = cfg && cfg.names ? cfg.names : acmeNamesDefault;
    $('acme-names').replaceChildren();
    for (const n of names) acmeNames.add(n);
    if (!names.length) acmeNames.add('');
    $('acme-names-follow').hidden = !!(cfg && cfg.names);
    const sel = $('acme-key-type');
    const types = [...(keyTypes || ['rsa2048', 'rsa4096'])];
    const want = cfg ? cfg.key_type : 'rsa2048';
    if (!types.includes(want)) types.push(want);   /* stored under another policy: shown as it is */
    sel.replaceChildren(...types.map((k) => el('option', { value: k }, KEY_TYPE_TEXT[k] || k)));
    sel.value = want;
    $('acme-summary').textContent = cfg ? 'Settings' : 'Set up automatic renewal';
    clearFindings($('acme-form'), $('acme-error'));
    acmeFilled = true;
  }

  function acmeRows(cfg, st) {
    const result = st.last_result === 'ok' ? 'succeeded' : st.last_result === 'failed' ? 'failed' : st.last_result;
    let next;
    if (cfg && !cfg.enabled) next = 'none: automatic renewal is off';
    else if (st.next_attempt) next = fmtDate(st.next_attempt);
    else next = cfg ? 'at the next hourly check' : '';
    return [
      ['Renewal', cfg ? (cfg.enabled ? 'on, from ' + cfg.directory : 'off (Renew automatically is cleared)') : ''],
      ['Last attempt', st.last_attempt ? fmtDate(st.last_attempt) + (result ? ': ' + result : '') : cfg ? 'none yet' : ''],
      ['Message', st.last_message || ''],
      ['Last success', st.last_success ? fmtDate(st.last_success) : st.last_attempt ? 'never' : ''],
      ['Failures in a row', st.last_attempt ? String(st.failures) : ''],
      ['Next attempt', next],
      ['Installed release', st.release || '']
    ];
  }

  function syncAcmeRenew() {
    const cfg = acme && acme.config;
    const st = acme && acme.status;
    const off = !!(cfg && !cfg.enabled);
    $('acme-renew').disabled = !acme || off || !!(st && st.running) || !!acmeWatch;
    $('acme-renew-h').textContent = off ? 'Automatic renewal is off: tick Renew automatically in the settings and Save first.'
      : 'Orders a new certificate now, due or not. A failed renewal leaves the served certificate alone.';
  }

  /* The status part: the facts, the running indicator, the button. */
  function showAcme(data) {
    acme = data;
    const cfg = data.config;
    const st = data.status || {};
    const dl = $('acme-details');
    dl.replaceChildren();
    for (const [k, v] of acmeRows(cfg, st)) {
      if (!v) continue;
      const item = k.toLowerCase().replace(/[^a-z0-9]+/g, '-');
      dl.append(el('dt', { 'data-item': item }, k), el('dd', {
        'data-item': item,
        class: k === 'Last attempt' && st.last_result ? 'acme-' + st.last_result : null
      }, v));
    }
    dl.hidden = !dl.children.length;
    $('acme-empty').hidden = !!cfg;
    if (!cfg) $('acme-empty').textContent = 'Not set up: fill in the settings below and Save.';
    $('acme-running').hidden = !st.running;
    $('acme-state').setAttribute('aria-busy', st.running ? 'true' : 'false');
    syncAcmeRenew();
  }

  /* The key types the key policy allows: the signing request's (GET /api/csr). */
  async function acmeKeyTypes() {
    if (csr && csr.defaults && csr.defaults.key_types) return csr.defaults.key_types;
    try {
      const r = await call('GET', '/api/csr');
      if (r.status === 200 && r.data.defaults && Array.isArray(r.data.defaults.key_types)) return r.data.defaults.key_types;
    } catch (e) {
      /* the API refuses what the policy does not allow: said at the field */
    }
    return null;
  }

  /* GET /api/acme: the answer, or null after saying why in the status. */
  function fetchAcme() {
    return getData('/api/acme', 'renewal status', (t) => {
      $('acme-empty').hidden = false;
      $('acme-empty').textContent = t;
    }, (d) => d.ok);
  }

  async function loadAcme() {
    const d = await fetchAcme();
    if (!d) return;
    showAcme(d);
    if (!acmeFilled) fillAcmeForm(d.config, await acmeKeyTypes());
    else if (!(d.config && d.config.names) && sameNames(acmeFormNames(), acmeNamesDefault)) {
      /* another certificate is served now: untouched defaults follow it */
      const now = acmeServedNames();
      if (!sameNames(now, acmeNamesDefault)) {
        acmeNamesDefault = now;
        $('acme-names').replaceChildren();
        for (const n of now) acmeNames.add(n);
      }
    }
    if (d.status.running && !acmeWatch) acmeFollow(acmeKey(d.status), true);
  }

  function acmeSay(kind, nodes) {
    const box = $('acme-result');
    box.className = 'banner ' + kind;
    box.replaceChildren(...nodes);
    box.hidden = false;
    announce(box.textContent);
  }

  function acmeStop() {
    if (acmeWatch) clearTimeout(acmeWatch.timer);
    acmeWatch = null;
    syncAcmeRenew();
  }

  /* A run's end, as the status tells it. */
  function acmeDone(d, changed) {
    const st = d.status;
    acmeStop();
    if (changed && st.last_result === 'ok') {
      acmeSay('ok', [el('p', {}, el('strong', {}, 'Renewed: the new certificate is installed and served.')),
        el('p', { class: 'acme-msg' }, st.last_message || '')]);
      loadCurrent();
    } else if (changed && st.last_result === 'failed') {
      acmeSay('err', [el('p', {}, el('strong', {}, 'The renewal failed. The served certificate is unchanged.')),
        el('p', { class: 'acme-msg' }, st.last_message || ''),
        el('p', {}, st.next_attempt ? 'The next attempt is after ' + fmtDate(st.next_attempt) + '; Renew now tries at once.' : '')]);
    } else {
      acmeSay('info', [el('p', {}, 'The renewal ended without a new result: nothing was changed. The appliance\'s journal ' +
        '(certdialog-fcgi: acme) says why.')]);
    }
  }

  /* Polls GET /api/acme while a run goes on, bounded.  before: the status
   * the run will change; seen: the run is known to be on (after "Renew
   * now" it may not hold its lock yet at the first poll). */
  function acmeFollow(before, seen) {
    acmeStop();
    const w = { left: ACME_POLL_MAX, wait: ACME_START_POLLS, seen };
    acmeWatch = w;
    syncAcmeRenew();
    const tick = async () => {
      if (acmeWatch !== w) return;
      const d = await fetchAcme();
      if (acmeWatch !== w) return;
      if (!d) { acmeStop(); return; }
      showAcme(d);
      const changed = acmeKey(d.status) !== before;
      if (d.status.running) w.seen = true;
      else if (changed || w.seen || --w.wait <= 0) { acmeDone(d, changed); return; }
      if (--w.left <= 0) {
        acmeStop();
        acmeSay('info', [el('p', {}, 'The renewal is still running. Reload the page later to see its result.')]);
        return;
      }
      w.timer = setTimeout(tick, ACME_POLL_MS);
    };
    w.timer = setTimeout(tick, 1000);
  }

  async function acmeRenewNow() {
    const before = acmeKey(acme && acme.status);
    const b = $('acme-renew');
    b.disabled = true;
    acmeSay('info', [el('p', {}, 'Starting a renewal…')]);
    let r;
    try {
      r = await call('POST', '/api/acme/renew');
    } catch (e) {
      acmeSay('err', [el('p', {}, 'Not started: ' + e.message + '.')]);
      syncAcmeRenew();
      return;
    }
    if (sessionTrouble(r.status, r.data)) return;
    const code = errCode(r.data);
    if (r.status === 202 && r.data.started) {
      if (r.data.status) showAcme({ config: acme && acme.config, status: r.data.status });
      $('acme-running').hidden = false;
      acmeSay('info', [el('p', {}, 'Renewal started. The status below follows it.')]);
      acmeFollow(before, false);
    } else if (r.status === 409 && code === 'acme_running') {
      acmeSay('info', [el('p', {}, el('strong', {}, r.data.errors[0].message + '.'))]);
      $('acme-running').hidden = false;
      acmeFollow(before, true);
    } else if (r.status === 409 && code === 'acme_not_configured') {
      acmeSay('err', [el('p', {}, el('strong', {}, r.data.errors[0].message + '.'),
        ' Fill in at least the directory URL below, then Save.')]);
      $('acme-box').open = true;
      $('acme-directory').focus();
      syncAcmeRenew();
    } else {
      acmeSay('err', [el('p', {}, 'Not started: ' + errText(r.data, r.status))]);
      syncAcmeRenew();
    }
  }

  /* The PUT body: the whole configuration (docs/API.md, PUT /api/acme). */
  function acmeBody() {
    const v = (id) => $(id).value.trim();
    const body = { enabled: $('acme-enabled').checked, directory: v('acme-directory'),
      email: v('acme-email') || null, key_type: $('acme-key-type').value, challenge: 'http-01' };
    const kid = v('acme-eab-kid');
    const hmac = v('acme-eab-hmac');
    body.eab_key_id = kid || null;
    /* absent: the stored key is kept while the key id stays; null removes it */
    if (hmac) body.eab_hmac_key = hmac;
    else if (!kid) body.eab_hmac_key = null;
    const names = acmeFormNames();
    const following = !acme || !acme.config || !acme.config.names;
    /* untouched defaults keep following the served certificate (null) */
    body.names = !names.length || (following && sameNames(names, acmeNamesDefault)) ? null : names;
    return body;
  }

  /* A refused member next to its field, in the API's words. */
  function acmeFieldError(f) {
    const fb = f.field ? $('acme-fb-' + f.field) : null;
    if (!fb) return false;
    let text = f.detail || f.message;
    text = text.charAt(0).toUpperCase() + text.slice(1);
    fb.replaceChildren(el('ul', { class: 'findings errors' },
      el('li', { class: 'finding error', 'data-code': f.code, 'data-field': f.field },
        el('span', { class: 'kind' }, 'Error: '), el('span', { class: 'msg' }, text))));
    const box = fb.closest('.field');
    box.classList.add('invalid');
    const input = box.querySelector('input:not([type=radio]), select') || box.querySelector('input');
    if (input) { input.setAttribute('aria-invalid', 'true'); input.focus(); }
    announce('Not saved: ' + text);
    return true;
  }

  async function saveAcme() {
    clearFindings($('acme-form'), $('acme-error'));
    $('acme-saved').hidden = true;
    const r = await busyCall($('acme-save'), $('acme-form'), $('acme-error'),
      'Not saved: ', 'PUT', '/api/acme', acmeBody());
    if (!r || sessionTrouble(r.status, r.data)) return;
    if (r.status === 200 && r.data.ok) {
      $('acme-result').hidden = true;     /* what it said was about the settings before */
      showAcme(r.data);
      fillAcmeForm(r.data.config, [...$('acme-key-type').options].map((o) => o.value));
      const d = $('acme-saved');
      d.replaceChildren(el('p', {}, el('strong', {}, 'Saved.'), r.data.config.enabled
        ? ' The hourly check renews when due; Renew now orders a certificate at once.'
        : ' Automatic renewal is off.'));
      d.hidden = false;
      announce(d.textContent);
      return;
    }
    const f = r.data.errors && r.data.errors[0];
    if (f && r.status === 400 && acmeFieldError(f)) return;
    showError($('acme-error'), 'Not saved: ' + errText(r.data, r.status));
    announce($('acme-error').textContent);
  }

  /* Signed out or another admin: nothing typed stays, no polling goes on. */
  function acmeReset() {
    acmeStop();
    acme = null;
    acmeFilled = false;
    $('acme-eab-hmac').value = '';
    $('acme-box').open = false;
    $('acme-result').hidden = true;
    $('acme-saved').hidden = true;
    $('acme-details').hidden = true;
    $('acme-running').hidden = true;
    $('acme-empty').hidden = false;
    $('acme-empty').textContent = 'Loading the renewal status…';
  }

  $('acme-form').addEventListener('submit', (e) => { e.preventDefault(); saveAcme(); });
  $('acme-renew').addEventListener('click', acmeRenewNow);
  $('acme-add-name').addEventListener('click', () => acmeNames.add('', true));
  $('acme-names').addEventListener('input', acmeNames.renumber);
  $('acme-form').addEventListener('input', (e) => {
    $('acme-saved').hidden = true;
    const box = e.target.closest('.field');
    if (!box) return;
    box.classList.remove('invalid');
    e.target.removeAttribute('aria-invalid');
    const fb = box.querySelector('.feedback');
    if (fb) fb.replaceChildren();
  });

  /* ----- API tokens */

  function hideNewToken() {
    $('tk-new').hidden = true;
    $('tk-secret').value = '';
    $('tk-curl').value = '';
    $('tk-copy-status').textContent = '';
    $('tk-curl-status').textContent = '';
  }

  async function loadTokens() {
    const d = await getData('/api/tokens', 'tokens', (t) => {
      $('tk-status').textContent = t;
      showTokens([]);
    }, (d) => Array.isArray(d.tokens));
    if (d) showTokens(d.tokens);
  }

  function showTokens(list) {
    const tb = $('tk-table').tBodies[0];
    tb.replaceChildren();
    for (const t of list) {
      const revoke = el('button', { type: 'button', class: 'revoke', 'data-id': t.id,
        'aria-label': 'Revoke the token "' + t.name + '"' }, 'Revoke');
      const tr = el('tr', { 'data-id': t.id, class: t.expired ? 'expired' : null },
        el('td', { 'data-label': 'Name' }, t.name),
        el('td', { 'data-label': 'Created' }, fmtDate(t.created)),
        el('td', { 'data-label': 'Last used' }, t.last_used ? fmtDate(t.last_used) : 'never'),
        el('td', { 'data-label': 'Expires', class: 'tk-expires' }, t.expires
          ? (t.expired ? el('strong', {}, 'expired ' + fmtDate(t.expires)) : fmtDate(t.expires)) : 'never'),
        el('td', { class: 'tk-action' }, revoke));
      revoke.addEventListener('click', () => confirmRevoke(tr, t));
      tb.append(tr);
    }
    if (!list.length) tb.append(el('tr', {}, el('td', { colspan: '5' }, 'No tokens yet.')));
    $('tk-status').textContent = plural(list.length, 'token', 'tokens') + '.';
  }

  function confirmRevoke(tr, t) {
    const cell = tr.querySelector('.tk-action');
    const keep = cell.firstChild;
    const yes = el('button', { type: 'button', class: 'revoke-yes danger' }, 'Revoke');
    const no = el('button', { type: 'button', class: 'revoke-no' }, 'Keep');
    const q = el('div', { class: 'confirm', role: 'group', 'aria-label': 'Confirm revoking' },
      el('p', {}, 'Revoke "' + t.name + '"? Scripts that use it are refused from now on.'), yes, ' ', no);
    cell.replaceChildren(q);
    no.focus();
    no.addEventListener('click', () => { cell.replaceChildren(keep); keep.focus(); });
    yes.addEventListener('click', async () => {
      yes.disabled = true;
      no.disabled = true;
      let r;
      try {
        r = await call('DELETE', '/api/tokens/' + encodeURIComponent(t.id));
      } catch (e) {
        $('tk-status').textContent = 'Not revoked: ' + e.message + '.';
        cell.replaceChildren(keep);
        return;
      }
      if (sessionTrouble(r.status, r.data)) return;
      if (r.status === 200 && r.data.ok) {
        await loadTokens();
        $('tk-status').textContent = 'The token "' + t.name + '" was revoked. ' + $('tk-status').textContent;
        announce('The token "' + t.name + '" was revoked.');
      } else {
        cell.replaceChildren(keep);
        $('tk-status').textContent = 'Not revoked: ' + errText(r.data, r.status);
        await loadTokens();
      }
    });
  }

  $('tk-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const box = $('tk-error');
    box.hidden = true;
    const name = $('tk-name').value.trim();
    const daysText = $('tk-days').value.trim();
    if (!name) { showError(box, 'Enter a name for the token: what will use it.'); $('tk-name').focus(); return; }
    let days = null;
    if (daysText !== '') {
      if (!/^[0-9]+$/.test(daysText) || parseInt(daysText, 10) < 1) {
        showError(box, 'Enter the days as a whole number of 1 or more, or leave the field empty.');
        $('tk-days').focus();
        return;
      }
      days = parseInt(daysText, 10);
    }
    $('tk-create').disabled = true;
    let r;
    try {
      r = await call('POST', '/api/tokens', { name, expires_days: days });
    } catch (err) {
      showError(box, 'No token was created: ' + err.message + '.');
      $('tk-create').disabled = false;
      return;
    }
    $('tk-create').disabled = false;
    if (sessionTrouble(r.status, r.data)) return;
    if (r.status !== 201 || !r.data.token) {
      showError(box, 'No token was created: ' + errText(r.data, r.status));
      return;
    }
    $('tk-name').value = '';
    $('tk-days').value = '';
    $('tk-new-title').textContent = 'The token "' + r.data.name + '" was created' +
      (r.data.expires ? ' (it expires ' + fmtDate(r.data.expires) + ').' : '.');
    $('tk-secret').value = r.data.token;
    $('tk-secret').size = Math.max(r.data.token.length, 10);
    const line = "curl -H 'Authorization: Bearer " + r.data.token + "' " + location.origin + API;
    $('tk-curl').value = line;
    $('tk-curl').size = Math.min(line.length, 200);
    $('tk-copy-status').textContent = '';
    $('tk-curl-status').textContent = '';
    $('tk-new').hidden = false;
    $('tk-secret').focus();
    $('tk-secret').select();
    announce('Token created. Copy it now: it is shown only this once.');
    await loadTokens();
  });
  $('tk-copy').addEventListener('click', () => copyText($('tk-secret').value, $('tk-secret'), $('tk-copy-status')));
  $('tk-curl-copy').addEventListener('click', () => copyText($('tk-curl').value, $('tk-curl'), $('tk-curl-status')));
  $('tk-done').addEventListener('click', () => { hideNewToken(); $('tk-name').focus(); });
  /* A download after the session ended would save the 401's JSON as the
   * "certificate": ask first, then let the click through. */
  for (const a of document.querySelectorAll('#downloads a, #dl-csr')) {
    a.addEventListener('click', async (e) => {
      if (a.dataset.checked === 'yes') { delete a.dataset.checked; return; }
      e.preventDefault();
      let r = null;
      try { r = await call('GET', '/api/session'); } catch (err) { r = null; }
      if (r && sessionTrouble(r.status, r.data)) return;
      a.dataset.checked = 'yes';
      a.click();
    });
  }
  $('to-account').addEventListener('click', (e) => {
    e.preventDefault();
    $('account').scrollIntoView({ block: 'start' });
    $('account').focus({ preventScroll: true });
  });

  /* Drag and drop onto a file field (the whole field is the drop zone). */
  for (const field of form.querySelectorAll('.field.file')) {
    const input = field.querySelector('input[type=file]');
    let depth = 0;
    field.addEventListener('dragenter', (e) => { e.preventDefault(); depth++; field.classList.add('drag'); });
    field.addEventListener('dragover', (e) => { e.preventDefault(); e.dataTransfer.dropEffect = 'copy'; });
    field.addEventListener('dragleave', () => { if (--depth <= 0) { depth = 0; field.classList.remove('drag'); } });
    field.addEventListener('drop', (e) => {
      e.preventDefault();
      depth = 0;
      field.classList.remove('drag');
      if (e.dataTransfer && e.dataTransfer.files.length) {
        const dt = new DataTransfer();
        dt.items.add(e.dataTransfer.files[0]);
        input.files = dt.files;
        input.dispatchEvent(new Event('change', { bubbles: true }));
        announce(field.querySelector('label').textContent + ': ' + e.dataTransfer.files[0].name);
      }
    });
  }
  /* A file chosen again clears what was said about the old one. */
  for (const input of form.querySelectorAll('input')) {
    /* 'input' for typing: 'change' would only come with the blur, and the
     * layout would then move under a pointer that is clicking a button */
    const typed = input.type === 'text' || input.type === 'password';
    input.addEventListener(typed ? 'input' : 'change', () => {
      const box = input.closest('.field');
      if (!box) return;
      box.classList.remove('invalid', 'warned');
      input.removeAttribute('aria-invalid');
      const fb = box.querySelector('.feedback');
      if (fb) fb.replaceChildren();
    });
  }

  $('show-pass').addEventListener('click', () => {
    const p = $('f-passphrase');
    const show = p.type === 'password';
    p.type = show ? 'text' : 'password';
    $('show-pass').setAttribute('aria-pressed', show ? 'true' : 'false');
    $('show-pass').textContent = show ? 'Hide' : 'Show';
  });
  for (const a of document.querySelectorAll('a.to-form')) {
    a.addEventListener('click', (e) => {
      e.preventDefault();
      const ca = form.querySelector('input[name=mode][value=ca-signed]');
      if (!ca.checked) { ca.checked = true; syncMode(); }
      form.scrollIntoView({ block: 'start' });
      $('f-name').focus({ preventScroll: true });
    });
  }
  for (const r of form.querySelectorAll('input[name=mode]')) r.addEventListener('change', syncMode);
  /* Enter in a text field would submit the form, that is Save: on a form
   * built around "Test first" it runs Test (Save takes its own button). */
  form.addEventListener('keydown', (e) => {
    const t = e.target;
    if (e.key !== 'Enter' || t.tagName !== 'INPUT' || !/^(text|password|search|number)$/.test(t.type)) return;
    e.preventDefault();
    if (mode() === 'ca-signed' && !busy) $('test').click();
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    run('save', API, formData(), mode() === 'self-signed' ? 'Generating and installing…' : 'Uploading…');
  });
  $('test').addEventListener('click', () => run('test', API + '/validate', formData(), 'Testing…'));
  $('activate-no').addEventListener('click', () => {
    const back = pending && pending.action === 'rollback' ? $('rollback')
      : pending && document.querySelector('#history button[data-release="' + pending.target.release + '"]');
    closeSwitch();
    if (back) back.focus();
  });
  $('activate-yes').addEventListener('click', () => {
    const p = pending;
    if (!p) return;
    closeSwitch();
    if (p.action === 'rollback') run('rollback', API + '/rollback', new FormData(), 'Rolling back…');
    else {
      run('activate', API + '/history/' + encodeURIComponent(p.target.release) + '/activate', new FormData(),
        'Making it active…');
    }
  });
  syncMode();
  start();
})();
