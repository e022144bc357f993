// Xen Orchestra's connector (npm xen-api) against hvnetd: connect, wait for its object cache,
// create a network with callAsync (Async.network.create + task) and wait to see it in the cache.
// Prints one JSON line: {"pools": n, "hosts": n, "network": ref}. Exit status 1 on any failure.
import { createClient } from 'xen-api'

const [url, user, password] = process.argv.slice(2)
const deadline = (ms, what) =>
  new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms).unref())

const xapi = createClient({ url, auth: { user, password }, allowUnauthorized: true })
try {
  await Promise.race([xapi.connect(), deadline(20000, 'connect')])
  await Promise.race([xapi.objectsFetched, deadline(20000, 'object cache')])
  const all = () => Object.values(xapi.objects.all)
  const count = type => all().filter(o => o.$type === type).length
  const ref = await Promise.race([
    xapi.callAsync('network.create', { name_label: 'from-xo', name_description: '', MTU: 1500, other_config: {} }),
    deadline(20000, 'callAsync'),
  ])
  const seen = () => all().some(o => o.$type === 'network' && o.$ref === ref && o.name_label === 'from-xo')
  await Promise.race([
    new Promise(resolve => {
      if (seen()) return resolve()
      xapi.objects.on('add', () => seen() && resolve())
    }),
    deadline(10000, 'network in the cache'),
  ])
  console.log(JSON.stringify({ pools: count('pool'), hosts: count('host'), network: ref }))
  await xapi.disconnect()
  process.exit(0)
} catch (error) {
  console.error(error)
  process.exit(1)
}
