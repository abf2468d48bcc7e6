const v8 = require('v8');
const show = (label) => { const s = v8.getHeapSpaceStatistics().map(x => `${x.space_name.replace('_space','')}:${Math.round(x.space_size/1048576)}`).join(' '); const m = process.memoryUsage(); console.log(label, 'rss', Math.round(m.rss/1048576), 'heapTotal', Math.round(m.heapTotal/1048576), 'ext', Math.round(m.external/1048576), 'ab', Math.round(m.arrayBuffers/1048576), s); };
show('start');
require('rxjs'); show('rxjs');
require('@nestjs/common'); show('@nestjs/common');
require('@nestjs/core'); show('@nestjs/core');
