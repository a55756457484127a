// sa-check end to end: a real Mailroom process scores its stored messages with a real spamd and a
// real Rspamd (Debian packages, started here), answered in Mailpit's shape through the
// `mailpit-api` client; a checker that is down is reported in the result's Error, as Mailpit does.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { MailpitClient } from 'mailpit-api';
import nodemailer from 'nodemailer';
import * as shapes from '../../src/http/openapi/shapes.ts';
import { tempDir } from '../helpers/backends.ts';
import { type RunningMailroom, spawnMailroom } from '../helpers/process.ts';
import { startRspamd, startSpamd } from '../helpers/spam-daemons.ts';

const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

async function sendBoth(port: number): Promise<void> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
  await transport.sendMail({
    from: 'friend@example.test',
    to: 'me@example.test',
    subject: 'Lunch tomorrow?',
    text: 'Shall we meet at noon at the usual place?',
  });
  await transport.sendMail({ from: 'spam@example.test', to: 'me@example.test', subject: 'Win', text: GTUBE });
  transport.close();
}

const daemons = [
  {
    engine: 'spamassassin',
    start: async () => {
      const d = await startSpamd();
      return { flag: ['--spamassassin', `127.0.0.1:${d.port}`], stop: d.stop };
    },
  },
  {
    engine: 'rspamd',
    start: async () => {
      const d = await startRspamd();
      return { flag: ['--rspamd', d.url], stop: d.stop };
    },
  },
] as const;

for (const daemon of daemons) {
  describe(`sa-check with ${daemon.engine}`, () => {
    let server: RunningMailroom;
    let stopDaemon: () => Promise<void>;
    let mailpit: MailpitClient;
    const dataDir = tempDir();

    before(async () => {
      const d = await daemon.start();
      stopDaemon = d.stop;
      server = await spawnMailroom(['--data-dir', dataDir, ...d.flag]);
      mailpit = new MailpitClient(`http://127.0.0.1:${server.httpPort}`);
      await sendBoth(server.smtpPort);
      await mailpit.waitForMessage({ query: 'subject:win' }, { timeout: 10_000 });
    });

    after(async () => {
      await server?.stop();
      await stopDaemon?.();
      fs.rmSync(dataDir, { recursive: true, force: true });
    });

    it('scores spam and ham in Mailpit’s shape', async () => {
      assert.equal((await mailpit.getConfiguration()).SpamAssassin, true);
      const [spam, ham] = (await mailpit.listMessages()).messages;
      const bad = shapes.spamResult.parse(await mailpit.spamAssassinCheck(spam!.ID));
      assert.equal(bad.Engine, daemon.engine);
      assert.equal(bad.Error, '');
      assert.equal(bad.IsSpam, true);
      assert.ok(bad.Score >= 5, `score ${bad.Score}`);
      assert.ok(
        bad.Rules.some((r) => r.Name.includes('GTUBE')),
        JSON.stringify(bad.Rules),
      );
      const good = shapes.spamResult.parse(await mailpit.spamAssassinCheck(ham!.ID));
      assert.equal(good.IsSpam, false);
      assert.ok(good.Score < 5, `score ${good.Score}`);
    });

    it('reports a checker that is down in Error', async () => {
      await stopDaemon();
      const result = shapes.spamResult.parse(await mailpit.spamAssassinCheck('latest'));
      assert.equal(result.IsSpam, false);
      assert.notEqual(result.Error, '');
    });
  });
}
