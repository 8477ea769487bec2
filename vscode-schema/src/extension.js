// The marianne-lint language server in VS Code: every rule of the linter, its quick fixes, hover
// and completion, for any YAML file that is a Marianne file (whatever its name).
//
// The server is `marianne-lint server` (stdio). It is started when the `marianne-lint` program
// is found: the `marianne-lint.path` setting, else a virtual environment of the workspace
// (.venv, venv, env), else PATH. Without it the extension still hands its JSON schemas to the
// Red Hat YAML extension (contributes.yamlValidation), and says once how to get the server.
'use strict';

const fs = require('fs');
const path = require('path');
const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

const SECTION = 'marianne-lint';
let client = null;
let output = null;

function executableNames(base) {
  if (process.platform !== 'win32') {
    return [base];
  }
  const extensions = (process.env.PATHEXT || '.EXE;.CMD;.BAT').split(';').filter(Boolean);
  return [base, ...extensions.map((ext) => base + ext.toLowerCase()), ...extensions.map((ext) => base + ext)];
}

function isExecutable(file) {
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) {
      return false;
    }
    if (process.platform !== 'win32') {
      fs.accessSync(file, fs.constants.X_OK);
    }
    return true;
  } catch (error) {
    return false;
  }
}

function expand(setting) {
  let value = setting.trim();
  if (value.startsWith('~')) {
    value = path.join(require('os').homedir(), value.slice(1));
  }
  const folder = vscode.workspace.workspaceFolders && vscode.workspace.workspaceFolders[0];
  if (folder) {
    value = value.replace('${workspaceFolder}', folder.uri.fsPath);
    if (!path.isAbsolute(value) && value.includes(path.sep)) {
      value = path.join(folder.uri.fsPath, value);
    }
  }
  return value;
}

// The marianne-lint program to run, or null.
function findServer() {
  const config = vscode.workspace.getConfiguration(SECTION);
  const configured = (config.get('path') || '').trim();
  if (configured) {
    const file = expand(configured);
    if (path.isAbsolute(file)) {
      return isExecutable(file) ? file : null;
    }
    return searchPath(file);
  }
  const bin = process.platform === 'win32' ? 'Scripts' : 'bin';
  for (const folder of vscode.workspace.workspaceFolders || []) {
    for (const venv of ['.venv', 'venv', 'env']) {
      for (const name of executableNames('marianne-lint')) {
        const file = path.join(folder.uri.fsPath, venv, bin, name);
        if (isExecutable(file)) {
          return file;
        }
      }
    }
  }
  return searchPath('marianne-lint');
}

function searchPath(program) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir) {
      continue;
    }
    for (const name of executableNames(program)) {
      const file = path.join(dir, name);
      if (isExecutable(file)) {
        return file;
      }
    }
  }
  return null;
}

async function start(context) {
  const config = vscode.workspace.getConfiguration(SECTION);
  if (!config.get('enable', true)) {
    output.appendLine('marianne-lint: the language server is turned off (marianne-lint.enable).');
    return;
  }
  const command = findServer();
  if (!command) {
    const configured = (config.get('path') || '').trim();
    output.appendLine(configured
      ? `marianne-lint: ${configured} (marianne-lint.path) is not an executable; the language server is not started.`
      : 'marianne-lint: the marianne-lint program was not found (PATH, .venv); only the JSON schemas are active. '
        + 'Install it with `pip install marianne-lint` or set marianne-lint.path.');
    return;
  }
  output.appendLine(`marianne-lint: starting ${command} server`);
  const serverOptions = {
    command,
    args: ['server', ...(config.get('serverArgs') || [])],
    transport: TransportKind.stdio,
  };
  const clientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'yaml' },
      { scheme: 'untitled', language: 'yaml' },
    ],
    outputChannel: output,
    initializationOptions: { lintDelayMs: config.get('lintDelayMs', 0) },
    synchronize: {
      fileEvents: vscode.workspace.createFileSystemWatcher('**/{pyproject.toml,.marianne-lint.toml}'),
    },
  };
  client = new LanguageClient(SECTION, 'marianne-lint', serverOptions, clientOptions);
  try {
    await client.start();
  } catch (error) {
    output.appendLine(`marianne-lint: the language server did not start: ${error && error.message}`);
    client = null;
  }
}

async function stop() {
  if (client) {
    const running = client;
    client = null;
    try {
      await running.stop();
    } catch (error) {
      output.appendLine(`marianne-lint: stopping the server failed: ${error && error.message}`);
    }
  }
}

async function activate(context) {
  output = vscode.window.createOutputChannel('marianne-lint');
  context.subscriptions.push(output);
  context.subscriptions.push(vscode.commands.registerCommand('marianne-lint.restartServer', async () => {
    await stop();
    await start(context);
  }));
  context.subscriptions.push(vscode.workspace.onDidChangeConfiguration(async (event) => {
    if (event.affectsConfiguration(SECTION)) {
      await stop();
      await start(context);
    }
  }));
  await start(context);
}

function deactivate() {
  return stop();
}

module.exports = { activate, deactivate, findServer, searchPath };
