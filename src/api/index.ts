/**
 * DSE³, the application API: `Dm2Client` (query, parameters, comparable,
 * getImage), the user's wallet of certificates, and the control-channel
 * commands through which the `dm2` CLI drives a running node.
 */
export { Dm2Client, type QueryOptions } from './client.js'
export { Wallet, type UserIdentity } from './wallet.js'
export { getImage, type GetImageEvent, type GetImageOptions, type GetImageResult } from './get-image.js'
export { clientControlHandlers } from './control.js'
export { similar, annotate, DEFAULT_SIMILAR_MEASURE, DEFAULT_SIMILAR_TOP_K, type SimilarOptions, type SimilarQuery, type SimilarResult } from './similar.js'
export * from './errors.js'
