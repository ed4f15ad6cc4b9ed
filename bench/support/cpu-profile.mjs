// Preloaded into a benchmarked process (NODE_OPTIONS=--import …; Node 20 refuses --cpu-prof there): profiles its
// CPU from start to exit and writes a V8 .cpuprofile (Chrome DevTools, speedscope) into VIGIL_CPU_PROFILE_DIR.
import fs from 'node:fs';
import inspector from 'node:inspector';
import path from 'node:path';

const dir = process.env.VIGIL_CPU_PROFILE_DIR;
if (dir) {
  const session = new inspector.Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 }); // µs
  session.post('Profiler.start');
  // The main-thread session answers synchronously, so the profile is written inside 'exit'.
  process.on('exit', () => {
    session.post('Profiler.stop', (err, res) => {
      if (err) return;
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, `${process.pid}.cpuprofile`), JSON.stringify(res.profile));
    });
  });
}
