/**
 * Opens the HTML report in a real browser (Debian chromium driven by playwright-core) and checks
 * what a reader sees. Chromium must be installed (apt-get install -y chromium); without it this
 * test fails on purpose, since a skipped browser test would hide a broken report.
 * REPORT_SCREENSHOT=path also saves the screenshot there (the README's picture).
 */
import { describe, it, expect } from 'vitest';
import { existsSync, mkdtempSync, statSync, copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { writeReport } from '../../src/report/index.js';
import { sampleReport } from './sample-report.js';

const CHROMIUM = '/usr/bin/chromium';
// No background traffic: the network is closed and Chromium would otherwise flood it with retries.
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

describe('HTML report in Chromium', () => {
  it('renders the graph, heatmap, rankings and origins without errors or network requests', { timeout: 90_000 }, async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} not found: the browser test needs Debian chromium (apt-get install -y chromium); CI installs it in .ci/run`);
    }
    const dir = mkdtempSync(join(tmpdir(), 'lineage-report-'));
    const withOrigins = join(dir, 'report.html');
    const withoutOrigins = join(dir, 'report-no-origins.html');
    await writeReport(withOrigins, sampleReport(true));
    await writeReport(withoutOrigins, sampleReport(false));

    const profile = mkdtempSync(join(tmpdir(), 'lineage-chromium-profile-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      viewport: { width: 1100, height: 900 },
    });
    try {
      const page = await context.newPage();
      const problems: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('request', (r) => {
        if (!r.url().startsWith('file:')) requests.push(r.url());
      });

      await page.goto(pathToFileURL(withOrigins).href);
      expect(await page.title()).toBe('Sample <family> report');
      expect(await page.locator('svg.graph [data-node-id]').count()).toBe(7);
      expect(await page.locator('svg.graph [data-edge]').count()).toBe(5);
      expect(await page.locator('svg.graph .node.root').count()).toBe(2);
      expect(await page.locator('svg.graph .edge-false').count()).toBe(1);
      expect(await page.locator('svg.heatmap rect[data-child]').count()).toBe(49);
      expect(await page.locator('svg.heatmap rect.chosen').count()).toBe(5);
      expect(await page.locator('svg.origins [data-layer]').count()).toBe(2);
      expect(await page.locator('details[data-ranking]').count()).toBe(7);

      // Every node is drawn with a real size, and no two overlap.
      const boxes = await page.locator('svg.graph [data-node-id] rect').evaluateAll((rects) =>
        rects.map((r) => {
          const b = r.getBoundingClientRect();
          return { x: b.x, y: b.y, w: b.width, h: b.height };
        }),
      );
      for (const b of boxes) expect(b.w * b.h).toBeGreaterThan(100);
      for (let i = 0; i < boxes.length; i++) {
        for (let j = i + 1; j < boxes.length; j++) {
          const [p, q] = [boxes[i], boxes[j]];
          const overlap = p.x < q.x + q.w && q.x < p.x + p.w && p.y < q.y + q.h && q.y < p.y + p.h;
          expect(overlap).toBe(false);
        }
      }
      // Roots are drawn above their descendants.
      const y = async (id: string) => (await page.locator(`svg.graph [data-node-id="${id}"] rect`).boundingBox())!.y;
      expect(await y('root')).toBeLessThan(await y('a'));
      expect(await y('a')).toBeLessThan(await y('a1'));

      const shot = join(dir, 'report.png');
      await page.screenshot({ path: shot, fullPage: false });
      expect(statSync(shot).size).toBeGreaterThan(5000);
      const keep = process.env.REPORT_SCREENSHOT;
      if (keep) {
        mkdirSync(dirname(keep), { recursive: true });
        copyFileSync(shot, keep);
      }

      // Hovering a heatmap cell shows its raw value.
      await page.locator('svg.heatmap rect[data-child="a"][data-candidate="root"]').hover();
      await expect.poll(() => page.locator('#readout').textContent()).toBe('child a ← root: -0.021');

      await page.goto(pathToFileURL(withoutOrigins).href);
      expect(await page.locator('[data-section="origins-missing"]').textContent()).toBe('not computed');
      expect(await page.locator('svg.origins').count()).toBe(0);

      expect(problems).toEqual([]);
      expect(requests).toEqual([]);
    } finally {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
