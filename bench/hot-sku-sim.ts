/**
 * Simulation for the flash-sale design (README "Hot SKU beyond one item"): stock split across N counter items
 * ("shards"), each capped by DynamoDB at 1,000 WCU/s, i.e. 500 transactional reservations/s (2 WCU each). A
 * reservation picks a random shard; if that shard is empty it falls back to the next shard with stock (one more
 * conditional write). The simulation reports sustained reservations/s and the mean writes per reservation
 * until the stock is gone, for each shard count.
 */
const PER_ITEM_WCU = 1000;
const WCU_PER_RESERVATION = 2;

export interface SimulationRow {
  shards: number;
  reservationsPerSecond: number;
  writesPerReservation: number;
  secondsToSellOut: number;
}

export function simulate(shards: number, stock: number, demandPerSecond: number, seed = 42): SimulationRow {
  let random = seed;
  const next = () => {
    random = (random * 1103515245 + 12345) % 2 ** 31;
    return random / 2 ** 31;
  };
  const left = Array.from({ length: shards }, (_, i) => Math.floor(stock / shards) + (i < stock % shards ? 1 : 0));
  const capacity = PER_ITEM_WCU / WCU_PER_RESERVATION; // reservations per shard per second
  let sold = 0;
  let attempts = 0;
  let seconds = 0;
  while (sold < stock && seconds < 10_000) {
    seconds++;
    const budget = Array(shards).fill(capacity) as number[];
    for (let r = 0; r < demandPerSecond && sold < stock; r++) {
      let shard = Math.floor(next() * shards);
      for (let hop = 0; hop < shards; hop++, shard = (shard + 1) % shards) {
        if (budget[shard]! <= 0) continue;
        budget[shard]!--;
        attempts++;
        if (left[shard]! > 0) {
          left[shard]!--;
          sold++;
          break;
        }
      }
    }
  }
  return {
    shards,
    reservationsPerSecond: sold / seconds,
    writesPerReservation: attempts / sold,
    secondsToSellOut: seconds,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log("shards | reservations/s | writes/reservation | seconds to sell 100,000 units at 20,000 req/s");
  for (const shards of [1, 2, 4, 8, 16, 32]) {
    const row = simulate(shards, 100_000, 20_000);
    console.log(
      `${String(shards).padStart(6)} | ${row.reservationsPerSecond.toFixed(0).padStart(14)} | ${row.writesPerReservation.toFixed(2).padStart(18)} | ${row.secondsToSellOut}`,
    );
  }
}
