import { createHash } from 'node:crypto'
import { base, linuxOneLiner } from './instructions.js'
import { debFor, tarballFor, windowsZip, type PackageFile, type PackageManifest } from './packages.js'

/**
 * /install: how an agency installs the agent, step by step for Windows and Linux, in
 * Vietnamese (default) or English (?lang=en). One self-contained page: inline CSS whose
 * hash the page's own Content-Security-Policy allows, no script, no external asset.
 */
export type Lang = 'vi' | 'en'

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string)

const CSS = `body{font:16px/1.5 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem;color:#1a1a1a}
h1{font-size:1.6rem}h2{margin-top:2rem;border-bottom:1px solid #ccc}code,pre{font-family:ui-monospace,Consolas,monospace;background:#f3f3f3}
pre{padding:.6rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all}table{border-collapse:collapse;width:100%}
td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}td.sha{font-family:ui-monospace,Consolas,monospace;font-size:.8rem;word-break:break-all}
.warn{background:#fff4ce;border:1px solid #e0c060;padding:.6rem}nav{float:right}`

export const INSTALL_PAGE_CSP = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(CSS).digest('base64')}'; img-src 'none'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'`

const T = {
  vi: {
    title: 'Cài đặt tác tử đo tốc độ tocdo',
    intro: 'Tác tử tocdo đo tốc độ tải xuống, tải lên và độ trễ của đường truyền tại cơ quan và gửi kết quả về máy chủ thu thập của tỉnh. Cần mã đăng ký (16 ký tự) do quản trị viên cấp tỉnh cấp.',
    collector: 'Máy chủ thu thập',
    packages: 'Gói cài đặt',
    file: 'Tệp',
    system: 'Hệ thống',
    size: 'Dung lượng',
    digest: 'SHA-256',
    none: 'Máy chủ này chưa có gói cài đặt. Quản trị viên chạy "npm run package" (gói nằm trong dist/packages) hoặc đặt TOCDO_PACKAGES_DIR.',
    win: 'Windows 10/11',
    winSteps: (zip: PackageFile | null, url: string) => [
      zip === null ? 'Tải gói Windows (chưa có trên máy chủ này).' : `Tải <a href="${esc(url)}/downloads/${esc(zip.name)}">${esc(zip.name)}</a>.`,
      zip === null ? '' : `Kiểm tra mã băm: mở PowerShell, chạy <code>Get-FileHash ${esc(zip.name)}</code>; kết quả phải là <code>${zip.sha256.toUpperCase()}</code>.`,
      'Giải nén tệp zip. Nhấp chuột phải vào <code>install.cmd</code>, chọn <b>Run as administrator</b> (Chạy với quyền quản trị).',
      `Khi được hỏi, nhập địa chỉ máy chủ thu thập <code>${esc(url)}</code> và dán mã đăng ký. Hoặc chạy trong cửa sổ quản trị (Administrator): <pre>install.cmd -Collector ${esc(url)} -Code XXXX-XXXX-XXXX-XXXX</pre>`,
      'Kiểm tra: mở cửa sổ lệnh mới, chạy <code>tocdo-agent status</code>. Tác tử chạy như một tác vụ theo lịch (Task Scheduler) tên <code>tocdo-agent</code>, khởi động cùng máy.'
    ],
    linux: 'Linux (Debian, Ubuntu và các bản phân phối khác)',
    linuxOne: 'Một lệnh (tự chọn gói .deb hoặc .tar.gz, kiểm tra SHA-256, cài đặt, đăng ký và khởi động dịch vụ):',
    linuxManual: 'Hoặc cài thủ công:',
    deb: (f: PackageFile, url: string) => `Debian/Ubuntu: <pre>curl -fsSLO ${esc(url)}/downloads/${esc(f.name)}\necho "${f.sha256}  ${esc(f.name)}" | sha256sum -c -\nsudo apt-get install ./${esc(f.name)}\nsudo tocdo-agent enroll --collector ${esc(url)} --code XXXX-XXXX-XXXX-XXXX\nsudo chown -R tocdo:tocdo /var/lib/tocdo-agent\nsudo systemctl enable --now tocdo-agent</pre>`,
    tar: (f: PackageFile, url: string) => `Bản phân phối khác: <pre>curl -fsSLO ${esc(url)}/downloads/${esc(f.name)}\necho "${f.sha256}  ${esc(f.name)}" | sha256sum -c -\nmkdir tocdo-agent && tar -xzf ${esc(f.name)} -C tocdo-agent\nsudo sh "$(find tocdo-agent -maxdepth 2 -name install.sh | head -n 1)" --collector ${esc(url)} --code XXXX-XXXX-XXXX-XXXX</pre>`,
    check: 'Kiểm tra: <code>sudo tocdo-agent status</code> (trạng thái) và <code>sudo tocdo-agent doctor</code> (chẩn đoán).',
    proxy: 'Mạng có proxy',
    proxyText: 'Tác tử gửi kết quả qua proxy HTTP(S) nếu có: thiết lập <code>proxy</code> trong config.json của tác tử, hoặc biến môi trường HTTPS_PROXY / NO_PROXY, hoặc (Windows) proxy của máy (<code>netsh winhttp show proxy</code>). Nếu máy chủ dùng chứng chỉ của CA riêng, đặt <code>caFile</code>. Phép đo tốc độ luôn đi thẳng, không qua proxy.',
    other: 'English'
  },
  en: {
    title: 'Install the tocdo measurement agent',
    intro: 'The tocdo agent measures the download and upload speed and the latency of the agency\'s line and sends the results to the province\'s collector. You need an enrolment code (16 characters) from the provincial administrator.',
    collector: 'Collector',
    packages: 'Packages',
    file: 'File',
    system: 'System',
    size: 'Size',
    digest: 'SHA-256',
    none: 'This collector has no packages yet. The administrator runs "npm run package" (packages go to dist/packages) or sets TOCDO_PACKAGES_DIR.',
    win: 'Windows 10/11',
    winSteps: (zip: PackageFile | null, url: string) => [
      zip === null ? 'Download the Windows package (not on this collector yet).' : `Download <a href="${esc(url)}/downloads/${esc(zip.name)}">${esc(zip.name)}</a>.`,
      zip === null ? '' : `Check its digest: in PowerShell run <code>Get-FileHash ${esc(zip.name)}</code>; it must print <code>${zip.sha256.toUpperCase()}</code>.`,
      'Extract the zip. Right-click <code>install.cmd</code> and choose <b>Run as administrator</b>.',
      `When asked, enter the collector address <code>${esc(url)}</code> and paste the enrolment code. Or, in an administrator prompt: <pre>install.cmd -Collector ${esc(url)} -Code XXXX-XXXX-XXXX-XXXX</pre>`,
      'Check: open a new command prompt and run <code>tocdo-agent status</code>. The agent runs as the scheduled task <code>tocdo-agent</code>, started at boot.'
    ],
    linux: 'Linux (Debian, Ubuntu and other distributions)',
    linuxOne: 'One command (picks the .deb or the .tar.gz, checks the SHA-256, installs, enrols and starts the service):',
    linuxManual: 'Or by hand:',
    deb: (f: PackageFile, url: string) => `Debian/Ubuntu: <pre>curl -fsSLO ${esc(url)}/downloads/${esc(f.name)}\necho "${f.sha256}  ${esc(f.name)}" | sha256sum -c -\nsudo apt-get install ./${esc(f.name)}\nsudo tocdo-agent enroll --collector ${esc(url)} --code XXXX-XXXX-XXXX-XXXX\nsudo chown -R tocdo:tocdo /var/lib/tocdo-agent\nsudo systemctl enable --now tocdo-agent</pre>`,
    tar: (f: PackageFile, url: string) => `Other distributions: <pre>curl -fsSLO ${esc(url)}/downloads/${esc(f.name)}\necho "${f.sha256}  ${esc(f.name)}" | sha256sum -c -\nmkdir tocdo-agent && tar -xzf ${esc(f.name)} -C tocdo-agent\nsudo sh "$(find tocdo-agent -maxdepth 2 -name install.sh | head -n 1)" --collector ${esc(url)} --code XXXX-XXXX-XXXX-XXXX</pre>`,
    check: 'Check: <code>sudo tocdo-agent status</code> and <code>sudo tocdo-agent doctor</code>.',
    proxy: 'Networks with a proxy',
    proxyText: 'The agent sends results through an HTTP(S) proxy when there is one: the <code>proxy</code> setting in the agent\'s config.json, or HTTPS_PROXY / NO_PROXY, or (Windows) the machine proxy (<code>netsh winhttp show proxy</code>). If the collector\'s certificate comes from a private CA, set <code>caFile</code>. Speed measurements always go direct, never through the proxy.',
    other: 'Tiếng Việt'
  }
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`

export function installPage (lang: Lang, publicUrl: string, manifest: PackageManifest | null, problem: string | null): string {
  const t = T[lang]
  const url = base(publicUrl)
  const zip = manifest === null ? null : windowsZip(manifest)
  const debs = manifest === null ? [] : [debFor(manifest, 'amd64'), debFor(manifest, 'arm64')].filter((f) => f !== null)
  const tars = manifest === null ? [] : [tarballFor(manifest, 'x64'), tarballFor(manifest, 'arm64')].filter((f) => f !== null)
  const rows = (manifest?.files ?? []).map((f) => `<tr><td><a href="${esc(url)}/downloads/${esc(f.name)}">${esc(f.name)}</a></td><td>${esc(f.os)} ${esc(f.arch)}</td><td>${mb(f.bytes)}</td><td class="sha">${f.sha256}</td></tr>`).join('\n')
  return `<!doctype html>
<html lang="${lang}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${t.title}</title><style>${CSS}</style></head>
<body>
<nav><a href="?lang=${lang === 'vi' ? 'en' : 'vi'}" hreflang="${lang === 'vi' ? 'en' : 'vi'}">${t.other}</a></nav>
<h1>${t.title}</h1>
<p>${t.intro}</p>
<p>${t.collector}: <code>${esc(url)}</code>${manifest === null ? '' : ` · tocdo-agent ${esc(manifest.version)}`}</p>
<h2>${t.packages}</h2>
${manifest === null
    ? `<p class="warn">${t.none}${problem === null ? '' : `<br><small>${esc(problem)}</small>`}</p>`
    : `<table><thead><tr><th>${t.file}</th><th>${t.system}</th><th>${t.size}</th><th>${t.digest}</th></tr></thead><tbody>\n${rows}\n</tbody></table>\n<p><a href="${esc(url)}/downloads/SHA256SUMS">SHA256SUMS</a> · <a href="${esc(url)}/downloads/manifest.json">manifest.json</a></p>`}
<h2 id="windows">${t.win}</h2>
<ol>${t.winSteps(zip, url).filter((s) => s !== '').map((s) => `<li>${s}</li>`).join('')}</ol>
<h2 id="linux">${t.linux}</h2>
<p>${t.linuxOne}</p>
<pre>${esc(linuxOneLiner(url, 'XXXX-XXXX-XXXX-XXXX'))}</pre>
${debs.length + tars.length > 0 ? `<p>${t.linuxManual}</p>${debs.slice(0, 1).map((f) => `<p>${t.deb(f, url)}</p>`).join('')}${tars.slice(0, 1).map((f) => `<p>${t.tar(f, url)}</p>`).join('')}` : ''}
<p>${t.check}</p>
<h2 id="proxy">${t.proxy}</h2>
<p>${t.proxyText}</p>
</body>
</html>
`
}
