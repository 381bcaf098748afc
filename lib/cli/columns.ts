/**
 * Borderless columns as cli-table3 prints them (each cell padded to its
 * column's width, two spaces between columns), at a cost linear in the cells:
 * cli-table3 lays out every cell on its own, 13 s for the 60,000 cells of
 * `credreg nodes` on 10,000 hosts. Only for cells of printable ASCII, whose
 * width is their length; anything else (wide, combining or control
 * characters) is left to cli-table3, which measures it.
 */
import type { Cell } from './output.js'

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/

/** The lines of the table, or `undefined` when a cell is not printable ASCII. */
export function asciiColumns (head: string[], rows: Cell[][]): string[] | undefined {
  const all = [head, ...rows.map(r => r.map(String))]
  const widths: number[] = []
  for (const row of all) {
    for (const [i, cell] of row.entries()) {
      if (!PRINTABLE_ASCII.test(cell)) return undefined
      widths[i] = Math.max(widths[i] ?? 0, cell.length)
    }
  }
  return all.map(row => row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd())
}
