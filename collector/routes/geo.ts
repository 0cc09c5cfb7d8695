import type { FastifyInstance } from 'fastify'
import { Type } from '@sinclair/typebox'
import { TocdoError } from '../../shared/errors.js'
import { ErrorSchema, ProvinceParam } from '../reports/schemas.js'
import type { GeoVersion } from '../storage/area-levels.js'

const Version = Type.Union([Type.Literal('2025-07'), Type.Literal('2025-03')], { default: '2025-07', description: '2025-07: current units (34 provinces); 2025-03: pre-reform (63 provinces, districts)' })
const Unit = Type.Object({ code: Type.String(), name: Type.String(), fullName: Type.String() }, { additionalProperties: true })
const errors = { 400: ErrorSchema, 404: ErrorSchema }

/** Pickers for the dashboard and the enrolment screen; codes are always given with their version. */
export async function geoRoutes (fastify: FastifyInstance): Promise<void> {
  const geo = fastify.stores.geo
  const requireProvince = async (version: GeoVersion, code: string): Promise<{ code: string, name: string }> => {
    const p = await geo.province(version, code)
    if (p === undefined) throw new TocdoError('TOCDO_ERR_UNKNOWN_AREA', `province=${code} is not a ${version} province code`, { details: { field: 'province' } })
    return p
  }

  fastify.get('/api/v1/geo/provinces', {
    schema: {
      tags: ['geography'],
      querystring: Type.Object({ version: Type.Optional(Version) }),
      response: { 200: Type.Object({ version: Type.String(), provinces: Type.Array(Unit) }), ...errors }
    }
  }, async (request) => {
    const version = (request.query as { version?: GeoVersion }).version ?? '2025-07'
    return { version, provinces: await geo.provinces(version) }
  })

  fastify.get('/api/v1/geo/districts', {
    schema: {
      tags: ['geography'],
      summary: 'Old districts (2025-03) of a pre-reform province: analysis regions since 1 July 2025',
      querystring: Type.Object({ province: ProvinceParam }),
      response: { 200: Type.Object({ version: Type.String(), province: Type.Object({ code: Type.String(), name: Type.String() }), districts: Type.Array(Unit) }), ...errors }
    }
  }, async (request) => {
    const province = await requireProvince('2025-03', (request.query as { province: string }).province)
    return { version: '2025-03', province, districts: await geo.districts(province.code) }
  })

  fastify.get('/api/v1/geo/communes', {
    schema: {
      tags: ['geography'],
      querystring: Type.Object({ province: ProvinceParam, version: Type.Optional(Version), district: Type.Optional(Type.String({ pattern: '^[0-9]{3}$' })) }),
      response: { 200: Type.Object({ version: Type.String(), province: Type.Object({ code: Type.String(), name: Type.String() }), communes: Type.Array(Type.Object({ code: Type.String(), name: Type.String(), fullName: Type.String(), districtCode: Type.Union([Type.String(), Type.Null()]) })) }), ...errors }
    }
  }, async (request) => {
    const q = request.query as { province: string, version?: GeoVersion, district?: string }
    const version = q.version ?? '2025-07'
    const province = await requireProvince(version, q.province)
    if (q.district !== undefined && version !== '2025-03') {
      throw new TocdoError('TOCDO_ERR_VALIDATION', 'district= needs version=2025-03: the 2025-07 units have no district level', { details: { field: 'district' } })
    }
    return { version, province, communes: await geo.communes(version, province.code, q.district) }
  })

  fastify.get('/api/v1/geo/communes/:code/sources', {
    schema: {
      tags: ['geography'],
      summary: 'The old (2025-03) communes merged into a 2025-07 commune, full or partial: the enrolment picker for the legacy district',
      params: Type.Object({ code: Type.String({ pattern: '^[0-9]{5}$' }) }),
      response: { 200: Type.Object({ commune: Unit, sources: Type.Array(Type.Object({ code: Type.String(), name: Type.Union([Type.String(), Type.Null()]), districtCode: Type.Union([Type.String(), Type.Null()]), provinceCode: Type.Union([Type.String(), Type.Null()]), type: Type.String() })) }), ...errors }
    }
  }, async (request) => {
    const { code } = request.params as { code: string }
    const commune = await geo.commune('2025-07', code)
    if (commune === undefined) throw new TocdoError('TOCDO_ERR_UNKNOWN_AREA', `${code} is not a 2025-07 commune code`, { details: { field: 'code' } })
    // An old id that is not a 2025-03 commune (an island district merged whole, or a renumbered commune) is listed with what is known.
    const sources = await geo.communeSources(code)
    return { commune, sources }
  })
}
