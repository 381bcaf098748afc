/**
 * The numbers the shapes are made of.
 */
import { Type } from 'typebox'

/** A position in the change log. */
export const SeqSchema = Type.Integer({ minimum: 0 })

/** A version of a key: 1, 2, 3…; 0 for none. */
export const VersionSchema = Type.Integer({ minimum: 0 })

/** A count of things. */
export const CountSchema = Type.Integer({ minimum: 0 })
